using System.Reflection;
using System.Threading.Channels;
using RoomShare.RoomServer.Hubs;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// No hub method streams (DESIGN.md §3). The drain counts a call until its DI scope goes (DrainCountedCall), which SignalR
/// disposes after a non-streaming call's answer is written but before a streaming call's last write: a streaming method
/// would need another way to be counted.
/// </summary>
public sealed class RoomHubMethodsTests
{
    [Fact]
    public void NoHubMethodStreams()
    {
        var methods = typeof(RoomHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
        methods.Should().NotBeEmpty();
        var streaming = methods
            .Where(m => IsStream(m.ReturnType) || IsStream(UnwrapTask(m.ReturnType)) || m.GetParameters().Any(p => IsStream(p.ParameterType)))
            .Select(m => m.Name);
        streaming.Should().BeEmpty("a streaming call's scope is disposed before its last write, so the drain could close it first");
    }

    private static Type UnwrapTask(Type type) =>
        type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>))
            ? type.GetGenericArguments()[0]
            : type;

    private static bool IsStream(Type type) =>
        type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>) || type.GetGenericTypeDefinition() == typeof(ChannelReader<>));
}
