using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// At most <c>RoomServer__Limits__MaxOpenConnectionsPerMember</c> open hub connections per room member
/// on this replica, joined or not. <c>Join</c> limits a member's joined connections across replicas
/// (<c>MaxConnectionsPerMember</c>, join.lua); this bounds the ones that never join (or left the room
/// and stayed), which would otherwise cost a replica tens of KB each for as long as the token lives.
/// A connection request past it is refused with 429 before it starts (<see cref="MemberConnectLimits"/>);
/// this filter keeps the count, and closes a connection that got past that check in a race (its
/// member's other connections took the last places after its negotiate): without a reason — a
/// thrown error would reach the client, but SignalR logs each one as an error with its stack.
/// </summary>
public sealed class MemberConnectionCap(IOptions<RoomServerOptions> options, ILogger<MemberConnectionCap> logger) : IHubFilter
{
    // Items key of a connection that holds one of its member's places.
    private const string PlaceKey = "roomshare.member-place";

    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public int Limit { get; } = options.Value.Limits.MaxOpenConnectionsPerMember;

    /// <summary>Whether a member (<see cref="MemberConnectRate.MemberKey"/>) has all its places taken on this replica.</summary>
    public bool IsFull(string memberKey) => OpenCount(memberKey) >= Limit;

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        var connection = context.Context;
        if (connection.User is not { } user || MemberConnectRate.MemberKey(user) is not { } member)
        {
            await next(context);
            return;
        }

        if (!TryTakePlace(member))
        {
            // Not thrown: SignalR would log every refused connection as an error with its stack.
            HubLog.OverOpenConnectionLimit(logger, connection.ConnectionId, member, Limit);
            connection.Abort();
            return;
        }

        connection.Items[PlaceKey] = member;
        try
        {
            await next(context);
        }
        catch
        {
            // A failed connect gets no OnDisconnectedAsync: give the place back here.
            ReleasePlace(connection);
            throw;
        }
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        try
        {
            await next(context, exception);
        }
        finally
        {
            ReleasePlace(context.Context);
        }
    }

    private int OpenCount(string member) => _open.TryGetValue(member, out var count) ? count : 0;

    private bool TryTakePlace(string member)
    {
        while (true)
        {
            var count = OpenCount(member);
            if (count >= Limit)
            {
                return false;
            }

            if (count == 0 ? _open.TryAdd(member, 1) : _open.TryUpdate(member, count + 1, count))
            {
                return true;
            }
        }
    }

    private void ReleasePlace(HubCallerContext connection)
    {
        if (!connection.Items.Remove(PlaceKey, out var value) || value is not string member)
        {
            return;
        }

        while (true)
        {
            var count = OpenCount(member);
            if (count == 0)
            {
                return;
            }

            // The last place leaves no entry behind, so the map holds only members with connections.
            if (count == 1 ? _open.TryRemove(KeyValuePair.Create(member, 1)) : _open.TryUpdate(member, count - 1, count))
            {
                return;
            }
        }
    }
}
