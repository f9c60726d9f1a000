using System.Globalization;
using System.Net.Http.Json;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// Every pub/sub connection of a cluster dropped at once (<c>CLIENT KILL TYPE pubsub</c> on every node), twice. The
/// library restores each subscription on every node's reconnect; a classic channel went to whichever node it picked
/// while the last SUBSCRIBE was unanswered, and SignalR's channels and <c>rs-removals</c> ended up subscribed on two or
/// three nodes at once — a classic PUBLISH reaches every node, so an announcement reached each member two or three
/// times. With room channels sharded, every channel is a shard channel (DESIGN.md §1): it lives on its slot's master.
/// This class has a fixture of its own: it drops every pub/sub connection.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class PubSubLossTests(RedisClusterFixture cluster, ITestOutputHelper output) : IClassFixture<RedisClusterFixture>
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    private static readonly string SignalRAll = RedisRoomsExtensions.SignalRChannelPrefix + typeof(RoomShare.RoomServer.Hubs.RoomHub).FullName + ":all";

    [Fact]
    public async Task AfterEveryPubSubConnectionDroppedEachChannelIsBackOnceOnItsMasterAndAnAnnouncementArrivesOnce()
    {
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        try
        {
            foreach (var (replica, i) in cluster.Replicas.Select((r, i) => (r, i)))
            {
                members.Add(await cluster.JoinAsync(room, "m" + i.ToString(CultureInfo.InvariantCulture), replica));
            }

            await ShouldHaveEveryChannelOnceOnItsMasterAsync("before any loss");
            for (var round = 1; round <= 2; round++)
            {
                var killed = 0L;
                foreach (var node in cluster.Redis.Nodes)
                {
                    killed += long.Parse((await node.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub"))!, CultureInfo.InvariantCulture);
                }

                killed.Should().BeGreaterThanOrEqualTo(cluster.Replicas.Count * 2, "each replica's two multiplexers had pub/sub connections");

                await ShouldHaveEveryChannelOnceOnItsMasterAsync($"after every pub/sub connection dropped ({round.ToString(CultureInfo.InvariantCulture)})");
            }

            using (var announced = await cluster.Api.PostAsJsonAsync("/api/announcements", new { kind = "info", message = "once each" }))
            {
                announced.EnsureSuccessStatusCode();
            }

            await Task.WhenAll(members.Select(m => m.Client.NextAsync("Announcement", TimeSpan.FromSeconds(20))));
            await Task.Delay(TimeSpan.FromSeconds(2)); // a second copy, on a second node's subscription, would be here by now
            foreach (var member in members)
            {
                member.Client.Received("Announcement").Should().HaveCount(1, $"{member} is told each announcement once");
            }
        }
        finally
        {
            await Task.WhenAll(members.Select(m => m.DisposeAsync().AsTask()));
        }
    }

    /// <summary>
    /// Waits for the subscriptions to settle, then asserts them: no classic channel but the client library's own; each
    /// shard channel on one node only, a master serving its slot; SignalR's <c>all</c> and <c>rs-removals</c> once per
    /// replica.
    /// </summary>
    private async Task ShouldHaveEveryChannelOnceOnItsMasterAsync(string when)
    {
        var masters = (await cluster.Redis.TopologyAsync()).Where(n => n.IsMaster && !n.Failed && n.Slots.Count > 0).ToList();
        var replicas = cluster.Replicas.Count;
        await Poll.UntilSettledAsync(
            ReadSubscriptionsAsync,
            s => s.Classic.Count == 0
                && s.Shard.GroupBy(c => c.Channel).All(g => g.Count() == 1 && masters.Any(m => m.Port == g.Single().Port))
                && Total(s, SignalRAll) == replicas && Total(s, "rs-removals") == replicas,
            SettleTimeout);

        // Read again a moment later: a restore still on its way would show here.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var subscriptions = await ReadSubscriptionsAsync();
        var seen = string.Join("; ", subscriptions.Shard.Select(c => $"{c.Port} {c.Channel}={c.Subscribers}"))
            + " | classic: " + string.Join("; ", subscriptions.Classic);
        output.WriteLine($"{when}: {seen}");

        subscriptions.Classic.Should().BeEmpty($"{when}, SignalR's channels and rs-removals are shard channels ({seen})");
        Total(subscriptions, SignalRAll).Should().Be(replicas, $"{when}, each replica subscribes SignalR's all channel once ({seen})");
        Total(subscriptions, "rs-removals").Should().Be(replicas, $"{when}, each replica subscribes rs-removals once ({seen})");
        foreach (var channel in subscriptions.Shard.GroupBy(c => c.Channel))
        {
            channel.Should().ContainSingle($"{when}, {channel.Key} is subscribed on one node ({seen})");
            var slot = await cluster.Redis.KeySlotAsync(channel.Key);
            masters.Should().Contain(m => m.Port == channel.Single().Port && m.Slots.Any(r => r.Contains(slot)),
                $"{when}, {channel.Key} is subscribed on the master of its slot {slot.ToString(CultureInfo.InvariantCulture)} ({seen})");
        }
    }

    private static long Total(Subscriptions subscriptions, string channel) =>
        subscriptions.Shard.Where(c => c.Channel == channel).Sum(c => c.Subscribers);

    private async Task<Subscriptions> ReadSubscriptionsAsync()
    {
        var classic = new List<string>();
        var shard = new List<(int Port, string Channel, long Subscribers)>();
        foreach (var node in cluster.Redis.Nodes)
        {
            classic.AddRange((await ListAsync(node.Port, ["PUBSUB", "CHANNELS"]))
                .Where(c => !c.EndsWith("__Booksleeve_MasterChanged", StringComparison.Ordinal)) // the library's own
                .Select(c => $"{node.Port.ToString(CultureInfo.InvariantCulture)} {c}"));
            var channels = await ListAsync(node.Port, ["PUBSUB", "SHARDCHANNELS"]);
            if (channels.Count > 0)
            {
                var counts = (object?[])(await RespClient.ExecuteAsync(node.Port, ["PUBSUB", "SHARDNUMSUB", .. channels], TimeSpan.FromSeconds(5)))!;
                shard.AddRange(counts.Chunk(2).Select(p => (node.Port, (string)p[0]!, Convert.ToInt64(p[1], CultureInfo.InvariantCulture))));
            }
        }

        return new Subscriptions(classic, shard);
    }

    private static async Task<List<string>> ListAsync(int port, IReadOnlyList<string> command) =>
        [.. ((object?[])(await RespClient.ExecuteAsync(port, command, TimeSpan.FromSeconds(5)))!).Select(c => (string)c!)];

    private sealed record Subscriptions(List<string> Classic, List<(int Port, string Channel, long Subscribers)> Shard);
}
