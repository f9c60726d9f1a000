using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// /readyz while one of SignalR's once-only channels (its hub's <c>all</c>, groups, acks, results) is not subscribed:
/// not ready, naming the channel and why; ready again once it is made. What keeps the waits (the sharding subscriber's
/// retries) is in Units/ShardedSubscriberTests; this is the replica's readiness reading them, on a real cluster.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class SignalRChannelReadinessTests(RedisClusterContractServer server) : IClassFixture<RedisClusterContractServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AReplicaWhoseSignalRAllChannelIsNotSubscribedYetIsNotReadyUntilItIs()
    {
        await Readiness.UntilAsync(server.Anonymous, HttpStatusCode.OK, Bound); // the replica starts ready
        var waits = server.Services.GetRequiredService<SignalRChannelWaits>();

        waits.Waiting(PubSubLossTests.SignalRAll, "Timeout awaiting response");
        try
        {
            var reason = await Readiness.UntilAsync(server.Anonymous, HttpStatusCode.ServiceUnavailable, Bound, r => r?.Contains("SignalR", StringComparison.Ordinal) == true);
            reason.Should().Contain(PubSubLossTests.SignalRAll).And.Contain("Timeout awaiting response").And.Contain("announcements");
        }
        finally
        {
            waits.Made(PubSubLossTests.SignalRAll);
        }

        await Readiness.UntilAsync(server.Anonymous, HttpStatusCode.OK, Bound); // ready again once the channel is made
    }
}
