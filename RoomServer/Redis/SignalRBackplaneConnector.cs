using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Makes SignalR's own backplane multiplexer (its <c>RedisOptions.ConnectionFactory</c>), its channels sharded where the
/// rooms' are (<see cref="ShardedChannels"/>). Decided by the rooms' own topology, so that every replica publishes and
/// subscribes each channel alike. SignalR connects as its hub is mapped, before the rooms' connection starts: the first
/// connect waits for the topology (<see cref="TopologyWait"/>); with no node reached by then it fails, and SignalR tries
/// again at its next connect or send, which fails at once until a node is reached — nothing of the backplane works
/// without Redis anyway. One per replica (a singleton), so each replica's first connect waits, however many run in one
/// process.
/// </summary>
public sealed class SignalRBackplaneConnector(RedisConnection rooms, SignalRChannelWaits waits, ILogger<ShardedSubscriber> logger)
{
    /// <summary>How long the first connect waits for the rooms' connection to reach a node and learn the topology.</summary>
    private static readonly TimeSpan TopologyWait = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Set once the first connect has waited: SignalR runs a later one under a lock each connect and send queue behind,
    /// so while no node is reachable those fail at once rather than each waiting in turn.
    /// </summary>
    private int _waitedForTopology;

    private readonly TaskCompletionSource<IConnectionMultiplexer?> _sharded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// SignalR's multiplexer once made, when its channels are sharded; null when they are classic. Never completes while
    /// no connect has succeeded.
    /// </summary>
    public Task<IConnectionMultiplexer?> ShardedMultiplexer => _sharded.Task;

    public async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration, TextWriter log)
    {
        var wait = Interlocked.Exchange(ref _waitedForTopology, 1) == 0 ? TopologyWait : TimeSpan.Zero;
        var sharded = (await rooms.TopologyWhenKnownAsync(wait)).ShardedPubSub;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration, log);
        multiplexer.AddLibraryNameSuffix("SignalR"); // as SignalR names its own
        _sharded.TrySetResult(sharded ? multiplexer : null); // SignalR keeps its first multiplexer made
        return sharded ? ShardedBackplaneMultiplexer.Wrap(multiplexer, logger, waits, TimeSpan.FromMilliseconds(configuration.ConnectTimeout)) : multiplexer;
    }
}
