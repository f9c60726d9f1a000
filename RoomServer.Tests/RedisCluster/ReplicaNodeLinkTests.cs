using Microsoft.Extensions.Logging.Testing;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// SignalR's backplane links to replica nodes (<see cref="ReplicaNodeLinks"/>): a failover's leftovers there — a copy the
/// client library lost track of, or a subscription it still tracks on the old master — are dropped with the link, and the
/// library subscribes what it tracked on the masters. Over a multiplexer made as SignalR's is on a cluster: its client
/// named, admin commands allowed, every channel sharded and subscribed on the master.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class ReplicaNodeLinkTests
{
    private const string ClientName = "links-test-signalr";

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ACopyOnAReplicaIsDroppedOnTheSecondLookAndEachMessageThenArrivesOnce()
    {
        await using var cluster = await RedisClusterProcess.StartAsync();
        await using var multiplexer = await ConnectAsync(cluster, ClientName);
        var subscriber = multiplexer.GetSubscriber();
        var channel = RedisChannel.Sharded("rs-signalr:{copy}:all");
        var (master, replica) = await DoubledSubscriptionTests.ShardOfAsync(cluster, channel.ToString());

        await DoubledSubscriptionTests.LeaveUntrackedCopyAsync(subscriber, channel, replica);
        var heard = new Heard();
        await subscriber.SubscribeAsync(channel, (_, message) => heard.Add(message!));
        (await master.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "the channel is subscribed on its master");
        (await replica.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "beside the copy on the replica");
        await subscriber.PublishAsync(channel, "before");
        await Poll.UntilAsync(() => Task.FromResult(heard.Count("before") == 2), Settle, "the copy delivers each message a second time");

        var logger = new FakeLogger();
        var links = new ReplicaNodeLinks(multiplexer, ClientName, logger);
        (await links.LookAsync()).Should().Be(new LinkLook(Found: 1, Dropped: 0), "the first look only notes the link");
        (await replica.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "nothing is dropped on one look");
        (await links.LookAsync()).Should().Be(new LinkLook(Found: 0, Dropped: 1), "the second look finds the link again and drops it");

        await Poll.UntilAsync(async () => await replica.ShardSubscribersAsync(channel.ToString()) == 0, Settle, "the copy went with its link");
        logger.Collector.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1026 && r.Message.Contains(replica.Endpoint, StringComparison.Ordinal));
        await Poll.UntilAsync(
            async () => (await PubSubLinksAsync(replica, ClientName)).Count > 0 || (await LinkIdsAsync(replica, ClientName)).Count >= 2,
            Settle,
            "the library connects its subscription link to the replica again");
        await Task.Delay(TimeSpan.FromSeconds(1)); // what it would subscribe there on connecting
        (await replica.ShardSubscribersAsync(channel.ToString())).Should().Be(0, "the library tracked nothing there");
        (await master.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "the master's subscription is untouched");
        await subscriber.PublishAsync(channel, "after");
        await Poll.UntilAsync(() => Task.FromResult(heard.Count("after") > 0), Settle, "the next message arrives");
        await Task.Delay(TimeSpan.FromSeconds(1)); // a second copy would be here by now
        heard.Count("after").Should().Be(1, "the next message arrives once");
        (await links.LookAsync()).Should().Be(new LinkLook(Found: 0, Dropped: 0), "nothing is left on the replicas");
    }

    /// <summary>
    /// A graceful failover: the demoted master unsubscribes its shard channels' subscribers, and the library subscribes
    /// the channel again there (it still hears the shard), where its unsubscribe is refused (a master's command). Dropping
    /// the link moves the subscription to the new master, and it unsubscribes there.
    /// </summary>
    [Fact]
    public async Task ASubscriptionLeftOnTheOldMasterMovesToTheNewOneAndCanBeUnsubscribed()
    {
        await using var cluster = await RedisClusterProcess.StartAsync();
        await using var multiplexer = await ConnectAsync(cluster, ClientName);
        var subscriber = multiplexer.GetSubscriber();
        var channel = RedisChannel.Sharded("rs-signalr:{moved}:user:u");
        var (master, replica) = await DoubledSubscriptionTests.ShardOfAsync(cluster, channel.ToString());
        var heard = new Heard();
        await subscriber.SubscribeAsync(channel, (_, message) => heard.Add(message!), CommandFlags.DemandMaster);
        (await master.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "subscribed on the master");

        (await replica.ExecuteAsync("CLUSTER", "FAILOVER")).Should().Be("OK");
        await Poll.UntilAsync(
            async () => await replica.ExecuteListHeadAsync("ROLE") == "master" && await master.ExecuteListHeadAsync("ROLE") == "slave",
            TimeSpan.FromSeconds(30),
            "the replica takes over");
        await Poll.UntilAsync(
            async () => await master.ShardSubscribersAsync(channel.ToString()) == 1,
            Settle,
            "the library subscribed the channel again on the old master, which still hears the shard");
        multiplexer.GetServer(master.Endpoint).IsReplica.Should().BeFalse("nothing has told the library of the failover yet (no MOVED)");

        var links = new ReplicaNodeLinks(multiplexer, ClientName, new FakeLogger());
        (await links.LookAsync()).Should().Be(new LinkLook(Found: 0, Dropped: 0, Stale: true), "the library's roles are behind: it reconfigures");
        multiplexer.GetServer(master.Endpoint).IsReplica.Should().BeTrue("the look brought the library's roles up to date");
        (await links.LookAsync()).Should().Be(new LinkLook(Found: 1, Dropped: 0), "the next look finds the link");
        (await links.LookAsync()).Should().Be(new LinkLook(Found: 0, Dropped: 1), "and the one after drops it");
        await Poll.UntilAsync(
            async () => await master.ShardSubscribersAsync(channel.ToString()) == 0 && await replica.ShardSubscribersAsync(channel.ToString()) == 1,
            Settle,
            "the library subscribes the channel again on the new master");

        await subscriber.PublishAsync(channel, "moved");
        await Poll.UntilAsync(() => Task.FromResult(heard.Count("moved") > 0), Settle, "a message reaches it over the new master");
        await Task.Delay(TimeSpan.FromSeconds(1));
        heard.Count("moved").Should().Be(1, "once");

        await subscriber.UnsubscribeAsync(channel); // refused while the library tracked it on a replica
        (await replica.ShardSubscribersAsync(channel.ToString())).Should().Be(0, "the unsubscribe reached the new master");
        (await master.ShardSubscribersAsync(channel.ToString())).Should().Be(0, "and nothing is left on the old one");
    }

    /// <summary>Another replica's links, and this one's links to masters, are never dropped.</summary>
    [Fact]
    public async Task OnlyThisReplicasLinksToReplicaNodesAreDropped()
    {
        await using var cluster = await RedisClusterProcess.StartAsync();
        await using var other = await ConnectAsync(cluster, "other-replica-signalr");
        var channel = RedisChannel.Sharded("rs-signalr:{other}:all");
        var (master, replica) = await DoubledSubscriptionTests.ShardOfAsync(cluster, channel.ToString());
        await DoubledSubscriptionTests.LeaveUntrackedCopyAsync(other.GetSubscriber(), channel, replica);
        await other.GetSubscriber().SubscribeAsync(channel, (_, _) => { });

        await using var multiplexer = await ConnectAsync(cluster, ClientName);
        await multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Sharded("rs-signalr:{mine}:all"), (_, _) => { });
        var mine = await cluster.MasterOfAsync("rs-signalr:{mine}:all");
        var linksBefore = await LinkIdsAsync(mine, ClientName);

        var links = new ReplicaNodeLinks(multiplexer, ClientName, new FakeLogger());
        (await links.LookAsync()).Should().Be(new LinkLook(0, 0));
        (await links.LookAsync()).Should().Be(new LinkLook(0, 0));

        (await replica.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "the other replica's link is its own to mend");
        (await master.ShardSubscribersAsync(channel.ToString())).Should().Be(1);
        (await LinkIdsAsync(mine, ClientName)).Should().Equal(linksBefore, "a link to a master stays");
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(RedisClusterProcess cluster, string clientName)
    {
        var configuration = ConfigurationOptions.Parse(cluster.ConnectionString);
        configuration.ClientName = clientName;
        configuration.AllowAdmin = true;
        configuration.Protocol = RedisProtocol.Resp2;
        configuration.AsyncTimeout = 15_000; // past the copy's pause (DoubledSubscriptionTests)
        configuration.ConfigCheckSeconds = 600; // the library learns of a failover only as a test makes it
        return await ConnectionMultiplexer.ConnectAsync(configuration);
    }

    /// <summary>The ids of the node's clients named <paramref name="clientName"/>, in order.</summary>
    private static async Task<List<string>> LinkIdsAsync(RedisClusterProcess.Node node, string clientName) =>
        [.. (await NamedClientsAsync(node, clientName)).Select(line => line.Split(' ')[0]).Order(StringComparer.Ordinal)];

    /// <summary>The node's clients named <paramref name="clientName"/> that hold subscriptions.</summary>
    private static async Task<List<string>> PubSubLinksAsync(RedisClusterProcess.Node node, string clientName) =>
        [.. (await NamedClientsAsync(node, clientName)).Where(line => !line.Contains(" sub=0 psub=0 ssub=0 ", StringComparison.Ordinal))];

    /// <summary>The node's <c>CLIENT LIST</c> lines of the clients named <paramref name="clientName"/>.</summary>
    private static async Task<List<string>> NamedClientsAsync(RedisClusterProcess.Node node, string clientName) =>
        [.. ((await node.ExecuteAsync("CLIENT", "LIST")) ?? "")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line.Contains($" name={clientName} ", StringComparison.Ordinal))];

    private sealed class Heard
    {
        private readonly List<string> _messages = [];

        public void Add(string message)
        {
            lock (_messages)
            {
                _messages.Add(message);
            }
        }

        public int Count(string message)
        {
            lock (_messages)
            {
                return _messages.Count(m => m == message);
            }
        }
    }
}
