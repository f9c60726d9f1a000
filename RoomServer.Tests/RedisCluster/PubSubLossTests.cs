using System.Globalization;
using System.Net.Http.Json;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// Every pub/sub connection of a cluster dropped at once (<c>CLIENT KILL TYPE pubsub</c> on every node), twice. The
/// library restores each subscription on every node's reconnect; a classic channel went to whichever node it picked
/// while the last SUBSCRIBE was unanswered, and SignalR's channels and <c>rs-removals</c> ended up subscribed on two or
/// three nodes at once — a classic PUBLISH reaches every node, so an announcement reached each member two or three
/// times. With room channels sharded, every channel is a shard channel (DESIGN.md §1): it lives in its slot's shard,
/// once per replica. Also a graceful failover of every shard. This class has a fixture of its own: it drops every
/// pub/sub connection and fails every shard over.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class PubSubLossTests(RedisClusterFixture cluster, ITestOutputHelper output) : IClassFixture<RedisClusterFixture>
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    internal static readonly string SignalRAll = RedisRoomsExtensions.SignalRChannelPrefix + typeof(RoomShare.RoomServer.Hubs.RoomHub).FullName + ":all";

    private static readonly string SignalRGroups = RedisRoomsExtensions.SignalRChannelPrefix + typeof(RoomShare.RoomServer.Hubs.RoomHub).FullName + ":internal:groups";

    [Fact]
    public async Task AfterEveryPubSubConnectionDroppedEachChannelIsBackOnceInItsShardAndAnAnnouncementArrivesOnce()
    {
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        try
        {
            await JoinOnEveryReplicaAsync(room, "m", members);
            var before = await ShouldHaveEveryChannelOnceInItsShardAsync("before any loss");
            for (var round = 1; round <= 2; round++)
            {
                var killed = 0L;
                foreach (var node in cluster.Redis.Nodes)
                {
                    killed += long.Parse((await node.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub"))!, CultureInfo.InvariantCulture);
                }

                killed.Should().BeGreaterThanOrEqualTo(cluster.Replicas.Count * 3, "each replica beats on each of the 3 masters through a pub/sub connection there");

                await ShouldHaveEveryChannelOnceInItsShardAsync($"after every pub/sub connection dropped ({round.ToString(CultureInfo.InvariantCulture)})", before);
            }

            await ShouldTellEveryMemberOnceAsync(members, "once each");
        }
        finally
        {
            await Task.WhenAll(members.Select(m => m.DisposeAsync().AsTask()));
        }
    }

    /// <summary>
    /// A graceful failover (<c>CLUSTER FAILOVER</c> on a replica) moves every slot of the shard to its replica: the old
    /// master tells each client subscribed to a shard channel there that it is unsubscribed, and the library subscribes
    /// it again. Every shard, one after the other; then a room event and an announcement reach every member, once.
    /// </summary>
    [Fact]
    public async Task AfterAGracefulFailoverOfEveryShardEachChannelIsStillOnceInItsShardAndEveryMemberIsToldOnce()
    {
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        try
        {
            await JoinOnEveryReplicaAsync(room, "f", members);
            var before = await ShouldHaveEveryChannelOnceInItsShardAsync("before the failovers");
            var masters = (await cluster.Redis.TopologyAsync()).Where(n => n.IsMaster && !n.Failed && n.Slots.Count > 0).Select(n => n.Port).ToList();
            foreach (var master in masters)
            {
                var replica = await cluster.Redis.ReplicaOfAsync(master);
                (await replica.ExecuteAsync("CLUSTER", "FAILOVER")).Should().Be("OK");
                await Poll.UntilAsync(
                    async () => await replica.ExecuteListHeadAsync("ROLE") == "master" && await cluster.Redis.NodeAt(master).ExecuteListHeadAsync("ROLE") == "slave",
                    TimeSpan.FromSeconds(30),
                    $"{replica} takes over from {master.ToString(CultureInfo.InvariantCulture)}");
            }

            // After a failover the room gets a new epoch (DESIGN.md §1): members resync to it, as clients do. This write is
            // also the room channel's first message since: a replica that hears it twice re-makes the subscription.
            var renewed = await members[0].Client.SetChoiceAsync(room, "pizza", 2, "after-failover");
            await Task.WhenAll(members.Select(m => m.FollowUntilAsync(renewed.Version, TimeSpan.FromSeconds(20), catchUp: true)));

            // The old master, now a replica of the new one, may keep what was subscribed there: it still hears the shard.
            // The library can leave a channel subscribed on both nodes at once (its own restore after the old master's
            // unsubscribe, crossing a reconfiguration's): a replica that hears a message twice re-makes that subscription
            // with the copy unsubscribed (DoubledSubscriptionTests), so its own channels are once per replica again.
            // SignalR's end on the masters only: a replica drops its SignalR link to a replica node that holds any
            // (ReplicaNodeLinkTests), and the library subscribes them again on the masters.
            await ShouldHaveEveryChannelOnceInItsShardAsync("after a graceful failover of every shard", before);

            // The epoch is renewed by whichever replica's pass first re-checks the room after the promotion, which may come
            // after that first write: one more write that members follow as clients do takes them to it.
            var caughtUp = await members[2].Client.SetChoiceAsync(room, "pizza", 4, "settled-after-failover");
            await Task.WhenAll(members.Select(m => m.FollowUntilAsync(caughtUp.Version, TimeSpan.FromSeconds(20), catchUp: true)));

            // Settled, a write is live, strict: every member hears it over the subscriptions the failover left.
            var live = await members[1].Client.SetChoiceAsync(room, "pizza", 3, "live-after-failover");
            await Task.WhenAll(members.Select(m => m.FollowUntilAsync(live.Version, TimeSpan.FromSeconds(20))));

            // Announced once the subscriptions have settled: while SignalR's own restores after the failover were still
            // landing, one CI run told a member an announcement twice (SignalR's channels have no check of their own).
            await ShouldTellEveryMemberOnceAsync(members, "after failover");
        }
        finally
        {
            await Task.WhenAll(members.Select(m => m.DisposeAsync().AsTask()));
        }
    }

    /// <summary>One member of the room on each replica (added as joined, for the caller to dispose).</summary>
    private Task JoinOnEveryReplicaAsync(TestRoom room, string prefix, List<RoomFollower> members) =>
        JoinOnEveryReplicaAsync(cluster, room, prefix, members);

    /// <summary>One member of the room on each replica of <paramref name="cluster"/> (added as joined, for the caller to dispose).</summary>
    internal static async Task JoinOnEveryReplicaAsync(RedisClusterFixture cluster, TestRoom room, string prefix, List<RoomFollower> members)
    {
        foreach (var (replica, i) in cluster.Replicas.Select((r, i) => (r, i)))
        {
            members.Add(await cluster.JoinAsync(room, prefix + i.ToString(CultureInfo.InvariantCulture), replica));
        }
    }

    private Task ShouldTellEveryMemberOnceAsync(List<RoomFollower> members, string message) =>
        ShouldTellEveryMemberOnceAsync(cluster, members, message);

    /// <summary>An announcement reaches every member, and once: a second copy, by a second node's subscription, would be there 2 s later.</summary>
    internal static async Task ShouldTellEveryMemberOnceAsync(RedisClusterFixture cluster, List<RoomFollower> members, string message)
    {
        using (var announced = await cluster.Api.PostAsJsonAsync("/api/announcements", new { kind = "info", message }))
        {
            announced.EnsureSuccessStatusCode();
        }

        bool Ours(System.Text.Json.JsonElement a) => a.GetProperty("message").GetString() == message;
        await Task.WhenAll(members.Select(m => m.Client.WaitForAsync("Announcement", Ours, TimeSpan.FromSeconds(20))));
        await Task.Delay(TimeSpan.FromSeconds(2));
        foreach (var member in members)
        {
            member.Client.Received("Announcement").Count(Ours).Should().Be(1, $"{member} is told the announcement once");
        }
    }

    /// <summary>
    /// Waits for the subscriptions to settle, then asserts them: no classic channel but the client library's own; each
    /// shard channel on nodes of its slot's shard only (the master, or a replica of it: after a failover a subscription
    /// may stay on the old master, which hears the new one's messages), and at most once per replica — SignalR's
    /// <c>all</c> and <c>rs-removals</c> exactly once; and each channel subscribed <paramref name="before"/> as many times
    /// as it was then (none lost, none doubled). Returns what it saw.
    /// </summary>
    private async Task<Subscriptions> ShouldHaveEveryChannelOnceInItsShardAsync(string when, Subscriptions? before = null)
    {
        var expected = before?.Shard.GroupBy(c => c.Channel).ToDictionary(g => g.Key, g => g.Sum(c => c.Subscribers)) ?? [];
        var topology = await cluster.Redis.TopologyAsync(); // read again with each look: a failover's news spreads by gossip
        var replicas = cluster.Replicas.Count;
        var slots = new Dictionary<string, int>();
        async Task<bool> InItsShardAsync(string channel, int port)
        {
            if (!slots.TryGetValue(channel, out var slot))
            {
                slots[channel] = slot = await cluster.Redis.KeySlotAsync(channel);
            }

            var master = topology.Single(n => n.IsMaster && !n.Failed && n.Slots.Any(r => r.Contains(slot)));
            return port == master.Port || topology.Any(n => n.Port == port && n.MasterId == master.Id);
        }

        // Channels every replica subscribes (SignalR's all and groups, rs-removals, a room's events with a member on
        // each replica) once per replica; the others (a beat, a connection, a user, a server's acks) belong to one.
        long AtMost(string channel) =>
            channel == SignalRAll || channel == SignalRGroups || channel == "rs-removals" || channel.EndsWith(":events", StringComparison.Ordinal) ? replicas : 1;

        async Task<bool> SettledAsync(Subscriptions s)
        {
            topology = await cluster.Redis.TopologyAsync();
            foreach (var channel in s.Shard.GroupBy(c => c.Channel))
            {
                if (channel.Sum(c => c.Subscribers) > AtMost(channel.Key) || !(await Task.WhenAll(channel.Select(c => InItsShardAsync(c.Channel, c.Port)))).All(x => x))
                {
                    return false;
                }
            }

            return s.Classic.Count == 0 && Total(s, SignalRAll) == replicas && Total(s, "rs-removals") == replicas
                && expected.All(e => Total(s, e.Key) == e.Value) && !OnReplicaNodes(s, topology, SignalRChannels).Any();
        }

        // Settled, and the same on two reads in a row: an unsubscribe of the other test's members may still be landing.
        static string Totals(Subscriptions s) =>
            string.Join(";", s.Shard.GroupBy(c => c.Channel).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Sum(c => c.Subscribers)}"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var previous = "";
        while (clock.Elapsed < SettleTimeout)
        {
            var read = await ReadSubscriptionsAsync();
            var totals = Totals(read);
            if (await SettledAsync(read) && totals == previous)
            {
                break;
            }

            previous = totals;
            await Task.Delay(TimeSpan.FromMilliseconds(300));
        }

        // Read again a moment later: a restore still on its way would show here.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var subscriptions = await ReadSubscriptionsAsync();
        topology = await cluster.Redis.TopologyAsync();
        var seen = string.Join("; ", subscriptions.Shard.Select(c => $"{c.Port} {c.Channel}={c.Subscribers}"))
            + " | classic: " + string.Join("; ", subscriptions.Classic)
            + " | masters: " + string.Join("; ", topology.Where(n => n.IsMaster).Select(n => $"{n.Port} ({string.Join(",", topology.Where(r => r.MasterId == n.Id).Select(r => r.Port))})"));
        output.WriteLine($"{when}: {seen}");

        subscriptions.Classic.Should().BeEmpty($"{when}, SignalR's channels and rs-removals are shard channels ({seen})");
        Total(subscriptions, SignalRAll).Should().Be(replicas, $"{when}, each replica subscribes SignalR's all channel once ({seen})");
        Total(subscriptions, "rs-removals").Should().Be(replicas, $"{when}, each replica subscribes rs-removals once ({seen})");
        foreach (var (channel, count) in expected)
        {
            Total(subscriptions, channel).Should().Be(count, $"{when}, {channel} is subscribed as often as before ({seen})");
        }

        OnReplicaNodes(subscriptions, topology, SignalRChannels).Should().BeEmpty(
            $"{when}, SignalR's channels are on masters only: what a failover left on a replica node went with its link ({seen})");
        foreach (var channel in subscriptions.Shard.GroupBy(c => c.Channel))
        {
            channel.Sum(c => c.Subscribers).Should().BeLessThanOrEqualTo(AtMost(channel.Key), $"{when}, {channel.Key} is subscribed once per replica at most ({seen})");
            foreach (var (port, _, _) in channel)
            {
                (await InItsShardAsync(channel.Key, port)).Should().BeTrue(
                    $"{when}, {channel.Key} is subscribed on {port.ToString(CultureInfo.InvariantCulture)}, a node of its slot's shard ({seen})");
            }
        }

        return subscriptions;
    }

    private static bool SignalRChannels(string channel) => channel.StartsWith(RedisRoomsExtensions.SignalRChannelPrefix, StringComparison.Ordinal);

    /// <summary>The subscriptions of the chosen channels on nodes that are not masters.</summary>
    private static IEnumerable<string> OnReplicaNodes(Subscriptions subscriptions, IReadOnlyList<ClusterNodeInfo> topology, Func<string, bool> chosen) =>
        subscriptions.Shard
            .Where(c => chosen(c.Channel) && !topology.Any(n => n.Port == c.Port && n.IsMaster))
            .Select(c => $"{c.Port.ToString(CultureInfo.InvariantCulture)} {c.Channel}={c.Subscribers}");

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
