using System.Reflection;
using RoomShare.RoomServer.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// What SignalR's subscriber does to the calls it passes on where channels are sharded: every channel a shard channel
/// (subscribed, published and unsubscribed alike, so that replicas agree), a subscription on the master only whatever
/// role was asked, other flags kept; a pattern stays one (a shard channel cannot be a pattern); the library's own
/// exception is rethrown as thrown. RedisCluster/PubSubLossTests has it against a real cluster.
/// </summary>
public sealed class ShardedSubscriberTests
{
    [Fact]
    public async Task ASubscriptionIsToTheShardChannelOfTheSameNameOnTheMasterOnly()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();

        await subscriber.SubscribeAsync(RedisChannel.Literal("rs-signalrHub:all"), CommandFlags.None);
        subscriber.Subscribe(RedisChannel.Literal("rs-signalrHub:user:u"), (_, _) => { }, CommandFlags.PreferReplica | CommandFlags.FireAndForget);

        var (first, second) = (recorder.Calls[0], recorder.Calls[1]);
        Channel(first).IsSharded.Should().BeTrue();
        Channel(first).ToString().Should().Be("rs-signalrHub:all");
        Flags(first).Should().Be(CommandFlags.DemandMaster);
        Channel(second).IsSharded.Should().BeTrue();
        Flags(second).Should().Be(CommandFlags.DemandMaster | CommandFlags.FireAndForget, "a replica asked for becomes the master; the rest stays");
    }

    [Fact]
    public async Task APublishAndAnUnsubscribeNameTheShardChannelTooWithTheirFlagsAsGiven()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();

        await subscriber.PublishAsync(RedisChannel.Literal("rs-removals"), "x", CommandFlags.FireAndForget);
        await subscriber.UnsubscribeAsync(RedisChannel.Literal("rs-signalrHub:connection:c"), null, CommandFlags.None);

        recorder.Calls.Select(c => c.Method.Name).Should().Equal(nameof(ISubscriber.PublishAsync), nameof(ISubscriber.UnsubscribeAsync));
        recorder.Calls.Should().OnlyContain(c => Channel(c).IsSharded);
        Flags(recorder.Calls[0]).Should().Be(CommandFlags.FireAndForget);
        Flags(recorder.Calls[1]).Should().Be(CommandFlags.None);
    }

    /// <summary>
    /// After a failover the library refuses to unsubscribe a channel it tracked on the demoted master (a master's command
    /// for a replica): SignalR's disconnect must not fail for it (the node's side goes with its link, ReplicaNodeLinks).
    /// Any other failure is SignalR's to see.
    /// </summary>
    [Fact]
    public async Task AnUnsubscribeRefusedForAReplicaIsQuietAndOtherFailuresAreNot()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();
        var failure = (Exception)new RedisCommandException("Command cannot be issued to a replica: SUNSUBSCRIBE rs-signalrHub:user:u");
        var thrownAsCalled = true; // as the library does: it refuses while the message is prepared, before any task
        recorder.Answer = call => call.Method.Name != nameof(ISubscriber.UnsubscribeAsync) ? null
            : thrownAsCalled ? throw failure
            : Task.FromException(failure);

        await subscriber.UnsubscribeAsync(RedisChannel.Literal("rs-signalrHub:user:u"));
        thrownAsCalled = false;
        await subscriber.UnsubscribeAsync(RedisChannel.Literal("rs-signalrHub:user:u"));

        failure = new RedisConnectionException(ConnectionFailureType.SocketClosed, CommandFlags.None, "the link closed", null, CommandStatus.Unknown);
        var unsubscribe = () => subscriber.UnsubscribeAsync(RedisChannel.Literal("rs-signalrHub:user:u"));
        await unsubscribe.Should().ThrowAsync<RedisConnectionException>();
        failure = new RedisCommandException("CROSSSLOT Keys in request don't hash to the same slot");
        await unsubscribe.Should().ThrowAsync<RedisCommandException>("only the replica refusal is quiet");
    }

    /// <summary>A new multiplexer's link to the channel's master may still be coming up: a connection's channel is tried again.</summary>
    [Fact]
    public async Task WhileTheMultiplexerIsNewAConnectionsFailedSubscribeIsDroppedAndTriedAgain()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber(linksSettleBy: Environment.TickCount64 + 30_000);
        var refusals = 2;
        recorder.Answer = call => call.Method.Name == nameof(ISubscriber.SubscribeAsync) && refusals-- > 0
            ? Task.FromException<ChannelMessageQueue>(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "the master's link is not up yet", null, CommandStatus.Unknown))
            : null;

        await subscriber.SubscribeAsync(RedisChannel.Literal("rs-signalrHub:connection:c1"));

        recorder.Calls.Select(c => c.Method.Name).Should().Equal(
            nameof(ISubscriber.SubscribeAsync), nameof(ISubscriber.UnsubscribeAsync),
            nameof(ISubscriber.SubscribeAsync), nameof(ISubscriber.UnsubscribeAsync),
            nameof(ISubscriber.SubscribeAsync));
    }

    [Fact]
    public async Task OnceTheLinksHadTimeToComeUpAConnectionsFailedSubscribeIsNotTriedAgain()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber(linksSettleBy: Environment.TickCount64 - 1);
        recorder.Answer = call => call.Method.Name == nameof(ISubscriber.SubscribeAsync)
            ? Task.FromException<ChannelMessageQueue>(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "no master for the slot", null, CommandStatus.Unknown))
            : null;

        var subscribe = () => subscriber.SubscribeAsync(RedisChannel.Literal("rs-signalrHub:connection:c1"));

        await subscribe.Should().ThrowAsync<RedisConnectionException>("in an outage a connect fails at once");
        recorder.Calls.Select(c => c.Method.Name).Should().Equal(nameof(ISubscriber.SubscribeAsync), nameof(ISubscriber.UnsubscribeAsync));
    }

    [Theory]
    [InlineData("rs-signalrHub:all", true)]
    [InlineData("rs-signalrHub:internal:groups", true)]
    [InlineData("rs-signalrHub:internal:ack:server_1", true)]
    [InlineData("rs-signalrHub:internal:return:server_1", true)]
    [InlineData("rs-signalrHub:connection:c1", false)]
    [InlineData("rs-signalrHub:user:room/ann", false)]
    [InlineData("rs-signalrHub:group:g", false)]
    public void TheChannelsSignalRSubscribesOnceAreItsAllGroupsAckAndReturnChannels(string name, bool once) =>
        ShardedSubscriber.SubscribedOnce(RedisChannel.Literal(name)).Should().Be(once);

    [Fact]
    public void NoChannelStaysNone()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();

        subscriber.IsConnected();

        var asked = Channel(recorder.Calls.Single());
        asked.IsNullOrEmpty.Should().BeTrue();
        asked.IsSharded.Should().BeFalse("the library's \"any server\" question is not made about one shard");
    }

    [Fact]
    public async Task APatternStaysAPattern()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();

        await subscriber.SubscribeAsync(RedisChannel.Pattern("rs-*"), CommandFlags.None);

        Channel(recorder.Calls[0]).IsSharded.Should().BeFalse();
        Channel(recorder.Calls[0]).IsPattern.Should().BeTrue();
    }

    [Fact]
    public void TheLibrarysExceptionIsRethrownAsThrown()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();
        recorder.Answer = _ => throw new InvalidOperationException("MOVED 3 127.0.0.1:7000");

        var publish = () => subscriber.Publish(RedisChannel.Literal("a"), "x");

        publish.Should().Throw<InvalidOperationException>().WithMessage("MOVED 3 127.0.0.1:7000");
    }

    /// <summary>SignalR subscribes its all, group, ack and return channels once: a subscribe refused while a master fails over is tried again.</summary>
    [Fact]
    public async Task AChannelSignalRSubscribesOnceIsDroppedAndTriedAgainUntilItIsMade()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();
        var refusals = 2;
        recorder.Answer = call => call.Method.Name == nameof(ISubscriber.SubscribeAsync) && refusals-- > 0
            ? Task.FromException<ChannelMessageQueue>(new RedisTimeoutException(CommandFlags.None, "no master for the slot yet", CommandStatus.Unknown))
            : null;

        await subscriber.SubscribeAsync(RedisChannel.Literal("rs-signalrHub:all"));

        recorder.Calls.Select(c => c.Method.Name).Should().Equal(
            nameof(ISubscriber.SubscribeAsync), nameof(ISubscriber.UnsubscribeAsync),
            nameof(ISubscriber.SubscribeAsync), nameof(ISubscriber.UnsubscribeAsync),
            nameof(ISubscriber.SubscribeAsync));
        recorder.Calls.Should().OnlyContain(c => Channel(c).IsSharded, "the failed subscription is dropped under the channel it was made with");
    }

    /// <summary>
    /// While a channel SignalR subscribes once is tried again, the replica is not ready for SignalR's sends (/readyz says
    /// which channel and why); once it is made, it is. A connection's channel that fails never holds readiness back.
    /// </summary>
    [Fact]
    public async Task AOnceOnlyChannelNotSubscribedYetIsKeptForReadinessUntilMade()
    {
        var waits = new SignalRChannelWaits();
        var (recorder, subscriber) = Recorder.ForSubscriber(waits: waits);
        var refusals = 2;
        var seenWhileRefused = new List<string?>();
        recorder.Answer = call =>
        {
            if (call.Method.Name != nameof(ISubscriber.SubscribeAsync))
            {
                return null;
            }

            seenWhileRefused.Add(waits.NotReadyReason);
            return refusals-- > 0
                ? Task.FromException<ChannelMessageQueue>(new RedisTimeoutException(CommandFlags.None, "no master for the slot yet", CommandStatus.Unknown))
                : null;
        };

        await subscriber.SubscribeAsync(RedisChannel.Literal("rs-signalrHub:all"));

        var wireName = RedisRoomsExtensions.SignalRChannelPrefix + "rs-signalrHub:all"; // the library adds the prefix on the wire
        seenWhileRefused.Should().HaveCount(3);
        seenWhileRefused[0].Should().Contain(wireName).And.Contain("being subscribed", "not ready from the first attempt on");
        seenWhileRefused.Skip(1).Should().OnlyContain(reason => reason != null && reason.Contains(wireName, StringComparison.Ordinal)
            && reason.Contains("RedisTimeoutException: no master for the slot yet", StringComparison.Ordinal), "each retry waits with the channel and the reason named");
        waits.NotReadyReason.Should().BeNull("the channel is made");

        refusals = 1;
        var connect = () => subscriber.SubscribeAsync(RedisChannel.Literal("rs-signalrHub:connection:c1"));
        await connect.Should().ThrowAsync<RedisTimeoutException>();
        waits.NotReadyReason.Should().BeNull("a connection's channel fails its connect; readiness is not about it");
    }

    /// <summary>A connection's or user's channel: SignalR fails that connect, and the client connects again.</summary>
    [Theory]
    [InlineData("rs-signalrHub:connection:c1")]
    [InlineData("rs-signalrHub:user:room/ann")]
    public async Task AConnectionsOrUsersChannelThatFailsIsDroppedAndFailsAtOnce(string name)
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();
        recorder.Answer = call => call.Method.Name == nameof(ISubscriber.SubscribeAsync)
            ? Task.FromException<ChannelMessageQueue>(new RedisTimeoutException(CommandFlags.None, "no master for the slot yet", CommandStatus.Unknown))
            : null;

        var subscribe = () => subscriber.SubscribeAsync(RedisChannel.Literal(name));

        await subscribe.Should().ThrowAsync<RedisTimeoutException>();
        recorder.Calls.Select(c => c.Method.Name).Should().Equal(nameof(ISubscriber.SubscribeAsync), nameof(ISubscriber.UnsubscribeAsync));
    }

    [Fact]
    public async Task ASubscribeThatFailsForAnotherReasonIsNotTriedAgain()
    {
        var (recorder, subscriber) = Recorder.ForSubscriber();
        recorder.Answer = _ => Task.FromException<ChannelMessageQueue>(new ObjectDisposedException("multiplexer"));

        var subscribe = () => subscriber.SubscribeAsync(RedisChannel.Literal("rs-signalrHub:all"));

        await subscribe.Should().ThrowAsync<ObjectDisposedException>();
        recorder.Calls.Should().ContainSingle("a disposed multiplexer is no master failing over");
    }

    [Fact]
    public void TheMultiplexerHandsOutTheShardingSubscriberAndIsItselfOtherwise()
    {
        var (inner, multiplexer) = Recorder.ForMultiplexer();
        var (subscriberRecorder, _) = Recorder.ForSubscriber();
        inner.Answer = call => call.Method.Name switch
        {
            nameof(IConnectionMultiplexer.GetSubscriber) => subscriberRecorder.Proxy,
            "get_" + nameof(IConnectionMultiplexer.ClientName) => "r1-signalr",
            _ => null,
        };

        multiplexer.ClientName.Should().Be("r1-signalr");
        multiplexer.GetSubscriber().Publish(RedisChannel.Literal("a"), "x");

        Channel(subscriberRecorder.Calls.Single()).IsSharded.Should().BeTrue("the subscriber it hands out shards");
    }

    private static RedisChannel Channel(Recorder.RecordedCall call) =>
        (RedisChannel)call.Args.Single(a => a is RedisChannel)!;

    private static CommandFlags Flags(Recorder.RecordedCall call) =>
        (CommandFlags)call.Args.Single(a => a is CommandFlags)!;

    /// <summary>An interface's calls recorded as the sharding proxies pass them on; answered by <see cref="Answer"/>.</summary>
    // Not sealed: DispatchProxy derives the proxy type from it.
    public class Recorder : DispatchProxy
    {
        public sealed record RecordedCall(MethodInfo Method, object?[] Args);

        public List<RecordedCall> Calls { get; } = [];

        public Func<RecordedCall, object?> Answer { get; set; } = _ => null;

        public object Proxy { get; private set; } = null!;

        /// <summary>A recorder of a subscriber's calls, and the sharding subscriber around it.</summary>
        public static (Recorder Recorder, ISubscriber Subscriber) ForSubscriber(long linksSettleBy = 0, SignalRChannelWaits? waits = null)
        {
            var proxy = Create<ISubscriber, Recorder>();
            var recorder = (Recorder)(object)proxy;
            recorder.Proxy = proxy;
            return (recorder, ShardedSubscriber.Wrap(proxy, NullLogger.Instance, waits ?? new SignalRChannelWaits(), linksSettleBy));
        }

        /// <summary>A recorder of a multiplexer's calls, and the sharding multiplexer around it.</summary>
        public static (Recorder Recorder, IConnectionMultiplexer Multiplexer) ForMultiplexer()
        {
            var proxy = Create<IConnectionMultiplexer, Recorder>();
            var recorder = (Recorder)(object)proxy;
            recorder.Proxy = proxy;
            return (recorder, ShardedBackplaneMultiplexer.Wrap(proxy, NullLogger.Instance, new SignalRChannelWaits()));
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var call = new RecordedCall(targetMethod!, args ?? []);
            Calls.Add(call);
            return Answer(call) ?? DefaultOf(targetMethod!.ReturnType);
        }

        /// <summary>What an unanswered call returns: a default value, or a task completed with one.</summary>
        private static object? DefaultOf(Type type)
        {
            if (type == typeof(Task))
            {
                return Task.CompletedTask;
            }

            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))
            {
                var result = type.GetGenericArguments()[0];
                return typeof(Task).GetMethod(nameof(Task.FromResult))!.MakeGenericMethod(result).Invoke(null, [DefaultOf(result)]);
            }

            return type.IsValueType && type != typeof(void) ? Activator.CreateInstance(type) : null;
        }
    }
}
