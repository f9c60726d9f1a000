using Microsoft.AspNetCore.SignalR;

namespace RoomShare.LoadTest.Hub;

/// <summary>Tells the hub protocol which type each incoming argument or result binds to; everything unread binds to <see cref="IgnoredWire"/>.</summary>
internal sealed class LeanHubBinder : IInvocationBinder
{
    public static readonly LeanHubBinder Instance = new();

    private static readonly Type[] RoomEventArguments = [typeof(RoomEventWire)];
    private static readonly Type[] OneIgnoredArgument = [typeof(IgnoredWire)];

    public IReadOnlyList<Type> GetParameterTypes(string methodName) =>
        methodName == "RoomEvent" ? RoomEventArguments : OneIgnoredArgument;

    public Type GetReturnType(string invocationId) =>
        invocationId == InvocationIds.Join ? typeof(JoinResultWire) : typeof(IgnoredWire);

    public Type GetStreamItemType(string streamId) => typeof(IgnoredWire);
}
