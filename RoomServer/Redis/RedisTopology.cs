using RoomShare.RoomServer.Configuration;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// What the connected Redis is and how the store uses it (DESIGN.md §2 "Outgrowing one Redis"):
/// a cluster or one server, whether room channels are sharded (SPUBLISH/SSUBSCRIBE), and how many
/// replicas must confirm a write before it is acknowledged. Decided once, from the first server the
/// multiplexer reaches.
/// </summary>
public sealed record RedisTopology(bool IsCluster, bool ShardedPubSub, int ReplicasToAcknowledge)
{
    /// <summary>
    /// Null while no server is reachable (nothing can be decided, and nothing can be served). Throws
    /// <see cref="InvalidOperationException"/>, with what to change, when the settings cannot work with this server.
    /// </summary>
    public static RedisTopology? Resolve(IConnectionMultiplexer multiplexer, RedisOptions options, int storeTimeoutMilliseconds)
    {
        var reached = multiplexer.GetServers().Where(s => s.IsConnected).ToList();
        if (reached.Count == 0)
        {
            return null;
        }

        var isCluster = reached.Any(s => s.ServerType == ServerType.Cluster);
        if (options.ShardedPubSub == ShardedPubSubMode.On && !isCluster)
        {
            throw new InvalidOperationException(
                $"RoomServer:Redis:ShardedPubSub is 'on', but the Redis server at {string.Join(", ", reached.Select(s => s.EndPoint))} " +
                $"is not a Redis Cluster (it reports {reached[0].ServerType}). Sharded pub/sub (SPUBLISH/SSUBSCRIBE) spreads room " +
                "channels over a cluster's shards; set RoomServer__Redis__ShardedPubSub to 'auto' or 'off', or point " +
                "ConnectionStrings__Redis at the nodes of a Redis Cluster.");
        }

        var sharded = options.ShardedPubSub switch
        {
            ShardedPubSubMode.On => true,
            ShardedPubSubMode.Off => false,
            _ => isCluster,
        };
        var replicas = options.ReplicasToAcknowledge ?? (isCluster ? 1 : 0);
        if (RedisOptions.DeadlineTooShort(replicas, storeTimeoutMilliseconds) is { } tooShort)
        {
            throw new InvalidOperationException(tooShort);
        }

        return new RedisTopology(isCluster, sharded, replicas);
    }

    /// <summary>A room's channel: sharded (its slot's master only) or classic (every node of a cluster).</summary>
    public RedisChannel Channel(string roomId) => RedisKeys.Events(roomId, ShardedPubSub);

    /// <summary>ARGV[1] of every script: the publish command and the channel (Scripts/prelude.lua).</summary>
    public string ScriptChannel(string roomId) => (ShardedPubSub ? ShardedPublishArguments : PublishArguments).Get(roomId);

    /// <summary>Every script's ARGV: the three prelude.lua reads (channel, history length, at), then the script's own.</summary>
    public RedisValue[] ScriptArguments(string roomId, int historyLength, string at, RedisValue[] scriptArgs)
    {
        // Sized once: the collection expression with a spread built it through a List, twice the copying.
        var args = new RedisValue[3 + scriptArgs.Length];
        args[0] = ScriptChannel(roomId);
        args[1] = historyLength;
        args[2] = at;
        scriptArgs.CopyTo(args, 3);
        return args;
    }

    // Static, not per instance: a record's fields take part in its equality.
    private static readonly PerRoomCache<string> PublishArguments = new(roomId => "PUBLISH " + RedisKeys.Events(roomId, sharded: false));
    private static readonly PerRoomCache<string> ShardedPublishArguments = new(roomId => "SPUBLISH " + RedisKeys.Events(roomId, sharded: true));
}
