using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Binds every completion result, stream item and invocation argument as <see cref="JsonElement"/>,
/// so <see cref="RawHubClient"/> needs none of the server's types and asserts on the JSON the wire carried.
/// JsonHubProtocol insists that a target's parameter count equals the arguments sent, which a
/// type-free client cannot know in advance: the raw client peeks at each record and sets
/// <see cref="NextArgumentCount"/> before handing it to the protocol (one receive loop, so no race).
/// </summary>
internal sealed class JsonElementBinder : IInvocationBinder
{
    private static readonly Type[][] ParameterLists = Enumerable.Range(0, 33)
        .Select(count => Enumerable.Repeat(typeof(JsonElement), count).ToArray())
        .ToArray();

    public int NextArgumentCount { get; set; }

    public Type GetReturnType(string invocationId) => typeof(JsonElement);

    public IReadOnlyList<Type> GetParameterTypes(string methodName) =>
        NextArgumentCount < ParameterLists.Length
            ? ParameterLists[NextArgumentCount]
            : Enumerable.Repeat(typeof(JsonElement), NextArgumentCount).ToArray();

    public Type GetStreamItemType(string streamId) => typeof(JsonElement);
}
