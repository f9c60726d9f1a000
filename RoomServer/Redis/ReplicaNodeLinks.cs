using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// SignalR's backplane subscriptions left on a node that is now a replica, found and dropped. Its multiplexer subscribes
/// every shard channel on the slot's master (<see cref="ShardedSubscriber"/>), so after a failover a subscription on a
/// replica is one of two things, both the client library's doing: a copy it lost track of (its own restore after the
/// demoted master unsubscribed its clients, crossing a reconfiguration's restore on the new master — each message then
/// arrives twice), or one it still tracks on the old master (which hears the shard, but refuses its unsubscribe). Neither
/// can be unsubscribed through the library, and SignalR's messages carry nothing to tell a copy by. What ends both is the
/// link itself: its subscription connection to that node is closed (<c>CLIENT KILL</c>), and when the library connects
/// again it subscribes what it tracked there on the masters, where the rest already are.
/// <para>
/// A link is dropped only when two looks in a row find it with shard subscriptions on a node that both the library and
/// the node itself call a replica (a node just promoted keeps its links). The library's roles lag a failover until it
/// reconfigures: a look that finds them behind the nodes' has it reconfigure, and the next look goes on from there.
/// A channel only on that link misses what is published until the library has it on the master (tens of
/// milliseconds), once, a few seconds after a failover; a copy costs every message on it twice for as long as the
/// link lives.
/// </para>
/// </summary>
public sealed class ReplicaNodeLinks(IConnectionMultiplexer multiplexer, string clientName, ILogger logger)
{
    // The links the last look found, by node and client id: a link found again is dropped.
    private HashSet<(string Node, long Id)> _found = [];

    // Nodes whose last look failed: each is told once until a look at it gets through.
    private readonly HashSet<string> _failing = [];

    /// <summary>
    /// Looks at every replica node once: drops each link of <c>clientName</c>'s with shard subscriptions there that the
    /// last look found too, and remembers the others for the next. A node that cannot be asked is left for the next look.
    /// </summary>
    public async Task<LinkLook> LookAsync()
    {
        var found = new HashSet<(string Node, long Id)>();
        var dropped = 0;
        var stale = false;
        foreach (var server in multiplexer.GetServers())
        {
            if (!server.IsConnected)
            {
                continue;
            }

            var node = RedisConnection.HostPort(server.EndPoint);
            try
            {
                var isReplica = await server.RoleAsync() is Role.Replica;
                if (isReplica != server.IsReplica)
                {
                    // The library has not heard of a failover yet (SignalR's multiplexer learns by a MOVED, or its periodic
                    // check): until it has, its links are where it means them to be, and one dropped would come back.
                    stale = true;
                    continue;
                }

                if (!isReplica)
                {
                    continue;
                }

                foreach (var link in await server.ClientListAsync())
                {
                    if (link.Name != clientName || link.ShardedSubscriptionCount == 0)
                    {
                        continue;
                    }

                    if (!_found.Contains((node, link.Id)))
                    {
                        found.Add((node, link.Id));
                        continue;
                    }

                    if (await server.ClientKillAsync(link.Id) > 0) // 0: the link went meanwhile
                    {
                        RedisLog.ReplicaLinkDropped(logger, clientName, node, link.ShardedSubscriptionCount);
                        dropped++;
                    }
                }

                _failing.Remove(node);
            }
            catch (Exception ex) when (RedisConnection.IsRedisFailure(ex))
            {
                // Told once until a look gets through: a user without these commands' rights fails every look the same way.
                if (_failing.Add(node))
                {
                    RedisLog.ReplicaLinksNotRead(logger, node, ex.Message);
                }
            }
        }

        _found = found;
        if (stale)
        {
            try
            {
                await multiplexer.ConfigureAsync(); // its view of the roles, brought up to date for the next look
            }
            catch (Exception ex) when (RedisConnection.IsRedisFailure(ex))
            {
                // No node reached: the next look finds the roles behind again and asks again.
            }
        }

        return new LinkLook(found.Count, dropped, stale);
    }
}

/// <summary>
/// What one look found: links seen for the first time (a second look drops those still there), links dropped, and whether
/// the library's roles were behind the nodes' own (then brought up to date).
/// </summary>
public readonly record struct LinkLook(int Found, int Dropped, bool Stale = false);
