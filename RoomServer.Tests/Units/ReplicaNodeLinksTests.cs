using System.Net;
using System.Reflection;
using Microsoft.Extensions.Logging.Testing;
using RoomShare.RoomServer.Redis;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A look at the replica nodes' links when a node cannot be asked (<see cref="ReplicaNodeLinks"/>): the other nodes are
/// still looked at, the node is told once (warning 1027) until a look at it gets through, and a failure that is not
/// Redis's is the caller's to see. RedisCluster/ReplicaNodeLinkTests has it against a real cluster.
/// </summary>
public sealed class ReplicaNodeLinksTests
{
    [Fact]
    public async Task ANodeThatCannotBeAskedIsToldOnceUntilALookAtItGetsThroughAndTheOthersAreStillLookedAt()
    {
        var refusing = new FakeNode(7001) { Failure = new RedisServerException(RedisErrorKind.Unknown, CommandFlags.None, "NOPERM this user has no permissions to run the 'role' command") };
        var answering = new FakeNode(7002);
        var logger = new FakeLogger();
        var links = new ReplicaNodeLinks(FakeMultiplexer.Of(refusing, answering), "r1-signalr", logger);

        (await links.LookAsync()).Should().Be(new LinkLook(0, 0));
        (await links.LookAsync()).Should().Be(new LinkLook(0, 0));
        answering.RoleCalls.Should().Be(2, "a node that cannot be asked does not stop the look at the others");
        Warnings(logger).Should().ContainSingle("a node is told once while it keeps refusing")
            .Which.Should().Contain("127.0.0.1:7001").And.Contain("NOPERM");

        refusing.Failure = null;
        (await links.LookAsync()).Should().Be(new LinkLook(0, 0));
        refusing.Failure = new RedisServerException(RedisErrorKind.Unknown, CommandFlags.None, "NOPERM again");
        await links.LookAsync();
        Warnings(logger).Should().HaveCount(2, "once it got through, a new refusal is told again");
    }

    [Fact]
    public async Task AFailureThatIsNotRedisIsTheCallersToSee()
    {
        var node = new FakeNode(7001) { Failure = new InvalidOperationException("a bug") };
        var links = new ReplicaNodeLinks(FakeMultiplexer.Of(node), "r1-signalr", new FakeLogger());

        var look = () => links.LookAsync();

        await look.Should().ThrowAsync<InvalidOperationException>("the sweep logs it (error 1028) and looks again later");
    }

    private static List<string> Warnings(FakeLogger logger) =>
        [.. logger.Collector.GetSnapshot().Where(r => r.Id.Id == 1027).Select(r => r.Message)];

    /// <summary>A replica node, as the library sees it and as it answers <c>ROLE</c>.</summary>
    internal sealed class FakeNode(int port)
    {
        public EndPoint EndPoint { get; } = new IPEndPoint(IPAddress.Loopback, port);

        public Exception? Failure { get; set; }

        public int RoleCalls { get; private set; }

        public object? Answer(MethodInfo method) => method.Name switch
        {
            "get_IsConnected" => true,
            "get_IsReplica" => true,
            "get_EndPoint" => EndPoint,
            nameof(IServer.RoleAsync) => Role(),
            nameof(IServer.ClientListAsync) => Task.FromResult(Array.Empty<ClientInfo>()),
            _ => throw new NotSupportedException(method.Name),
        };

        private Task<Role> Role()
        {
            RoleCalls++;
            // The library's roles have internal constructors: an empty replica's role will do for a type test.
            return Failure is { } failure
                ? Task.FromException<Role>(failure)
                : Task.FromResult((Role)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(Role.Replica)));
        }
    }

    // Not sealed: DispatchProxy derives the proxy type from it.
    public class FakeMultiplexer : DispatchProxy
    {
        private object[] _servers = [];

        internal static IConnectionMultiplexer Of(params FakeNode[] nodes)
        {
            var proxy = Create<IConnectionMultiplexer, FakeMultiplexer>();
            ((FakeMultiplexer)(object)proxy)._servers = [.. nodes.Select(FakeServer.For)];
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod!.Name switch
        {
            nameof(IConnectionMultiplexer.GetServers) => _servers.Cast<IServer>().ToArray(),
            nameof(IConnectionMultiplexer.ConfigureAsync) => Task.FromResult(true),
            _ => throw new NotSupportedException(targetMethod.Name),
        };
    }

    // Not sealed: DispatchProxy derives the proxy type from it.
    public class FakeServer : DispatchProxy
    {
        private FakeNode _node = null!;

        internal static object For(FakeNode node)
        {
            var proxy = Create<IServer, FakeServer>();
            ((FakeServer)(object)proxy)._node = node;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => _node.Answer(targetMethod!);
    }
}
