using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// The one owner of "connection C is in room R on this replica": which connections this replica
/// holds (registered by <see cref="RoomHubLifetimeManager{THub}"/>), which room each has entered and
/// whether its Join completed, and the room channel subscriptions they need — reference-counted,
/// the first connection of a room subscribes, the last to leave unsubscribes. Each room has its own
/// gate, so a subscribe and an unsubscribe of one room never interleave, while a slow (or down)
/// Redis delays only the rooms it is subscribing. Room messages are delivered from here to the
/// room's local connections, serialized once per message (not once per connection).
/// </summary>
public sealed class RoomMembership(IRoomBackplane backplane, IOptions<RoomServerOptions> options, RoomMetrics metrics, ILogger<RoomMembership> logger)
{
    private readonly long _maxPendingBytes = options.Value.Limits.MaxPendingBytesPerConnection;
    private readonly ConcurrentDictionary<string, MemberConnection> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RoomEntry> _rooms = new(StringComparer.Ordinal);

    /// <summary>Raised for every room message delivered here, after it was sent to the room's connections.</summary>
    public event Action<BackplaneMessage>? Delivered;

    internal void Connected(HubConnectionContext connection)
    {
        _connections[connection.ConnectionId] = new MemberConnection(connection);
        metrics.ConnectionOpened();
    }

    internal void Disconnected(string connectionId)
    {
        if (_connections.TryRemove(connectionId, out _))
        {
            metrics.ConnectionClosed();
        }
    }

    /// <summary>
    /// Puts a connection into a room before its Join reads the store: from now on the room's messages are
    /// kept for it, and written once the store has admitted it (<see cref="Admit"/>; the client drops those at
    /// or below its Join result). Subscribes on 0 → 1.
    /// </summary>
    public async Task EnterAsync(string roomId, string connectionId, string memberId, long tokenRemovalGeneration, CancellationToken cancellationToken)
    {
        var connection = _connections.TryGetValue(connectionId, out var found)
            ? found
            : throw new InvalidOperationException($"connection {connectionId} is not connected to this replica");

        // Bounded: an entry is only replaced after its last connection left and its unsubscribe is over (the
        // retired entry's gate is held until then), so this settles once that unsubscribe has.
        while (true)
        {
            var entry = _rooms.GetOrAdd(roomId, _ => new RoomEntry());
            try
            {
                await entry.Gate.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // A Join given up while it waited (its connection gone): an entry it added must not stay
                // in the map, empty and unsubscribed, until the room is next joined here.
                _ = RetireWhenFreeAsync(roomId, entry);
                throw;
            }

            try
            {
                if (entry.Retired)
                {
                    continue;
                }

                if (entry.Subscription is null)
                {
                    entry.Subscription = await backplane.SubscribeAsync(roomId, Deliver, cancellationToken);
                    FanoutLog.Subscribed(logger, roomId);
                    metrics.RoomJoined();
                }

                connection.Enter(roomId, memberId, tokenRemovalGeneration);
                entry.Add(connection);
                return;
            }
            catch
            {
                RetireIfEmpty(roomId, entry);
                throw;
            }
            finally
            {
                entry.Gate.Release();
            }
        }
    }

    /// <summary>
    /// The store has admitted the connection's Join: the room's messages kept for it since it entered are
    /// written, in order, and later ones go straight to it. Until then it is sent nothing of the room, so a
    /// member the store refuses (removed since their token was issued) reads nothing, however long it waits.
    /// </summary>
    public void Admit(string roomId, string connectionId)
    {
        if (_connections.TryGetValue(connectionId, out var connection))
        {
            // Counted here, once, as they are written: a kept message the connection never gets (its Join
            // refused, or it left first) was never delivered.
            var written = connection.Admit(roomId, message => Track(roomId, connection, message, connection.Context.WriteAsync(message)));
            if (written > 0)
            {
                metrics.Delivered(written);
            }
        }
    }

    /// <summary>
    /// The connection's Join has completed: calls that need a joined member are allowed, and ticks
    /// renew its presence lease. Until then it only receives, so a tick can never announce a member
    /// before their Join registered them, nor bring back a lease a failed Join released.
    /// </summary>
    public void MarkJoined(string roomId, string connectionId)
    {
        if (_connections.TryGetValue(connectionId, out var connection))
        {
            connection.MarkJoined(roomId);
        }
    }

    /// <summary>The room the connection has entered (joined or still joining), if any.</summary>
    public string? RoomOf(string connectionId) =>
        _connections.TryGetValue(connectionId, out var connection) ? connection.RoomId : null;

    /// <summary>Whether the connection's Join of the room has completed (and it has not left).</summary>
    public bool IsJoined(string connectionId, string roomId) =>
        _connections.TryGetValue(connectionId, out var connection) && connection.IsJoinedTo(roomId);

    /// <summary>
    /// Whether the connection was taken out of the room because its member was removed
    /// (<see cref="LeaveRemovedAsync"/>): its calls are refused as <c>forbidden</c>, not "Join first".
    /// </summary>
    public bool WasRemovedFrom(string connectionId, string roomId) =>
        _connections.TryGetValue(connectionId, out var connection) && connection.WasRemovedFrom(roomId);

    /// <summary>
    /// Takes a connection out of a room; unsubscribes on 1 → 0. Works from the room's side too, so a
    /// Join that finishes after its connection was already gone can still undo its own enter.
    /// </summary>
    public Task LeaveAsync(string roomId, string connectionId) => LeaveAsync(roomId, connectionId, removed: false);

    /// <summary>
    /// As <see cref="LeaveAsync(string, string)"/>, for a connection whose member the room removed: it is
    /// closed a moment later, and a call it makes until then is its member's removal, not a missing Join.
    /// </summary>
    public Task LeaveRemovedAsync(string roomId, string connectionId) => LeaveAsync(roomId, connectionId, removed: true);

    private async Task LeaveAsync(string roomId, string connectionId, bool removed)
    {
        if (_connections.TryGetValue(connectionId, out var connection))
        {
            connection.Leave(roomId, removed);
        }

        if (!_rooms.TryGetValue(roomId, out var entry))
        {
            return;
        }

        await entry.Gate.WaitAsync();
        try
        {
            if (entry.Retired || !entry.Remove(connectionId) || !entry.IsEmpty)
            {
                return;
            }

            // Retired, but left in the map (its gate held) until the unsubscribe is over: a connection entering
            // meanwhile waits for it, then subscribes afresh — a subscribe never overtakes the room's unsubscribe,
            // whose failure path drops every handler of the channel.
            entry.Retired = true;
            try
            {
                if (entry.Subscription is { } subscription)
                {
                    await subscription.DisposeAsync();
                    FanoutLog.Unsubscribed(logger, roomId);
                    metrics.RoomLeft();
                }
            }
            finally
            {
                _rooms.TryRemove(new KeyValuePair<string, RoomEntry>(roomId, entry));
            }
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>The rooms with local members and their joined connections, copied for a tick (no waiting).</summary>
    public IReadOnlyList<(string RoomId, IReadOnlyList<TrackedConnection> Connections)> Snapshot() => Snapshot(static _ => true);

    /// <summary>As <see cref="Snapshot()"/>, for the rooms <paramref name="includeRoom"/> picks (only theirs are copied).</summary>
    public IReadOnlyList<(string RoomId, IReadOnlyList<TrackedConnection> Connections)> Snapshot(Func<string, bool> includeRoom) =>
        _rooms
            .Where(r => includeRoom(r.Key))
            .Select(r => (RoomId: r.Key, Connections: (IReadOnlyList<TrackedConnection>)r.Value.Joined()))
            .Where(r => r.Connections.Count > 0)
            .ToList();

    /// <summary>One room's joined connections here, copied for a tick (none when nobody is in it).</summary>
    public IReadOnlyList<TrackedConnection> JoinedConnectionsOf(string roomId) =>
        _rooms.TryGetValue(roomId, out var entry) ? entry.Joined() : [];

    /// <summary>The rooms <paramref name="includeRoom"/> picks with any local member, joined or still joining.</summary>
    public IReadOnlyList<string> RoomsWithMembers(Func<string, bool> includeRoom) =>
        _rooms.Where(r => r.Value.Members.Length > 0 && includeRoom(r.Key)).Select(r => r.Key).ToList();

    /// <summary>The connection, if this replica holds it.</summary>
    public HubConnectionContext? ContextOf(string connectionId) =>
        _connections.TryGetValue(connectionId, out var connection) ? connection.Context : null;

    /// <summary>Every connection this replica holds (for a drain).</summary>
    public IReadOnlyList<HubConnectionContext> AllConnections() => _connections.Values.Select(c => c.Context).ToList();

    /// <summary>
    /// This replica's connections of one member in one room whose token was issued before the member's
    /// removal generation reached <paramref name="removalGeneration"/> (to close them when the member is
    /// removed; a connection that joined with a token issued since, after a re-admission, stays). Read from
    /// each connection's token, so a connection not in the room — never joined, left, or its Join failed —
    /// is closed too: the removal ends every device of the member (DESIGN.md §3 <c>Removed</c>).
    /// </summary>
    public IReadOnlyList<HubConnectionContext> ConnectionsRemovedBy(string roomId, string memberId, long removalGeneration) =>
        _connections.Values
            .Where(c => c.Context.User is { } user
                && user.FindFirst(RoomClaims.RoomId)?.Value == roomId
                && user.FindFirst(RoomClaims.MemberId)?.Value == memberId
                && RoomClaims.RemovalGenerationOf(user) < removalGeneration)
            .Select(c => c.Context)
            .ToList();

    /// <summary>
    /// The room and member of every connection this replica holds, joined or not, each pair once with the lowest
    /// removal generation its connections' tokens carry: what a catch-up on missed removals asks the store about.
    /// </summary>
    public IReadOnlyList<TrackedMember> MembersHeld() =>
        _connections.Values
            .Select(c => c.Context.User)
            .Select(user => (Room: user?.FindFirst(RoomClaims.RoomId)?.Value, Member: user?.FindFirst(RoomClaims.MemberId)?.Value, User: user))
            .Where(c => c.Room is not null && c.Member is not null)
            .GroupBy(c => (c.Room!, c.Member!))
            .Select(g => new TrackedMember(g.Key.Item1, g.Key.Item2, g.Min(c => RoomClaims.RemovalGenerationOf(c.User!))))
            .ToList();

    /// <summary>
    /// Sends one server-to-client call (the restore's Presence catch-up) to every local connection in the
    /// room; serialized once, never awaited. Not a room message heard on the channel, so not counted as a delivery.
    /// </summary>
    public void SendToRoom(string roomId, string method, object argument) => Send(roomId, method, argument, counted: false);

    /// <summary>
    /// A tick's <c>Position</c> to the room's local members, unless the last event written to them here was already
    /// at it and it may be left out (<see cref="MembersPosition.MaySkip"/>).
    /// </summary>
    public void SendPosition(string roomId, RoomPosition position)
    {
        // No members, nobody to tell: the skip count is left as it is.
        if (_rooms.TryGetValue(roomId, out var entry) && entry.Members.Length > 0 && !entry.Position.MaySkip(position))
        {
            Send(roomId, RoomClientMethods.Position, new RoomPositionMessage(roomId, position.Epoch, position.Version), counted: false);
        }
    }

    /// <summary>
    /// After the backplane was restored (<paramref name="roomIds"/> those re-subscribed, null every room): what their
    /// members were written is forgotten, so the ticks send the rooms' positions until their next events.
    /// </summary>
    public void ForgetDelivered(IReadOnlySet<string>? roomIds)
    {
        if (roomIds is null)
        {
            foreach (var (_, entry) in _rooms)
            {
                entry.Position.Forget();
            }

            return;
        }

        foreach (var roomId in roomIds)
        {
            if (_rooms.TryGetValue(roomId, out var entry))
            {
                entry.Position.Forget();
            }
        }
    }

    /// <summary>As <see cref="SendToRoom"/>; returns how many connections it was written to now (<see cref="Write"/>).</summary>
    private int Send(string roomId, string method, object argument, bool counted)
    {
        if (MembersOf(roomId) is not { } members)
        {
            return 0;
        }

        var message = new SerializedHubMessage(new InvocationMessage(method, [argument]));
        return Write(roomId, members, _ => message, counted);
    }

    private MemberConnection[]? MembersOf(string roomId) =>
        _rooms.TryGetValue(roomId, out var entry) && entry.Members is { Length: > 0 } members ? members : null;

    /// <summary>
    /// Writes to each member not kept back (<see cref="MemberConnection.TryWrite"/>); returns how many were written
    /// to. <paramref name="counted"/>: a room message from the channel, which a kept copy counts when it is written.
    /// </summary>
    private int Write(string roomId, MemberConnection[] members, Func<HubConnectionContext, SerializedHubMessage> messageFor, bool counted)
    {
        var written = 0;
        foreach (var member in members)
        {
            var message = messageFor(member.Context);
            if (member.TryWrite(roomId, message, counted, out var write, out var held))
            {
                Track(roomId, member, message, write);
                written++;
            }
            else if (held > _maxPendingBytes)
            {
                // What waits for the store's answer counts against the same bound as what waits for the socket.
                Evict(roomId, member, held);
            }
        }

        return written;
    }

    /// <summary>
    /// After a write to a member was started (<see cref="MemberConnection.TryWrite"/>, <see cref="MemberConnection.Admit"/>):
    /// per connection, SignalR serialises writes behind a FIFO lock, so order is kept, and one slow member's full
    /// buffer delays only that member, never the room's other members. What has not gone out is counted here.
    /// </summary>
    private void Track(string roomId, MemberConnection member, SerializedHubMessage message, ValueTask write)
    {
        if (!write.IsCompletedSuccessfully)
        {
            // Not written at once: the connection is behind. What waits is counted, and past the
            // bound the member is dropped to a resync instead of growing this replica's memory.
            var bytes = message.GetSerializedMessage(member.Context.Protocol).Length;

            // The figure that crossed the bound is the one logged: earlier writes may complete and
            // subtract theirs at any moment, so a second read could be below it.
            var pending = member.AddPending(bytes);
            if (pending > _maxPendingBytes)
            {
                Evict(roomId, member, pending);
            }

            _ = ObserveAsync(write, roomId, member, bytes);
        }
    }

    /// <summary>Drops a member that fell too far behind to a resync (it reconnects and joins with <c>since</c>), once.</summary>
    private void Evict(string roomId, MemberConnection member, long pending)
    {
        if (member.TryMarkEvicted())
        {
            FanoutLog.SlowConsumerResync(logger, member.ConnectionId, roomId, pending);
            metrics.SlowConsumerResync();
            member.Context.CloseAllowingReconnect();
        }
    }

    private void Deliver(BackplaneMessage message)
    {
        var entry = _rooms.TryGetValue(message.RoomId, out var found) && found.Members.Length > 0 ? found : null;
        switch (message)
        {
            case EncodedRoomMessage encoded when entry is not null:
                var isEvent = encoded.Kind == RoomMessageKind.Event;
                var target = isEvent ? RoomClientMethods.RoomEvent : RoomClientMethods.Presence;
                var frames = new RoomFrames(target, encoded.Json);

                // Noted before the writes, which follow on this thread: a tick in between leaves out a position
                // the members are about to have, rather than send one they just had.
                if (isEvent)
                {
                    entry.Position.Delivered(encoded.Json.Span);
                }

                var written = Write(encoded.RoomId, entry.Members, c => frames.For(c.Protocol), counted: true);
                Measure(target, written, isEvent ? EventStamps.AcceptedAt(encoded.Json.Span) : null);
                break;
            case RoomEventMessage e when entry is not null:
                entry.Position.Delivered(e.Event.Epoch, e.Event.Version);
                Measure(RoomClientMethods.RoomEvent, Send(e.RoomId, RoomClientMethods.RoomEvent, e.Event, counted: true), EventStamps.AcceptedAt(e.Event.At));
                break;
            case PresenceMessage p when entry is not null:
                Measure(RoomClientMethods.Presence, Send(p.RoomId, RoomClientMethods.Presence, p.Change, counted: true), null);
                break;
        }

        Delivered?.Invoke(message);
    }

    /// <summary>
    /// One room message heard, and the connections it was written to now: one counter add per message, not per
    /// connection (this is the fan-out's hot path). Those keeping it for a Join count when <see cref="Admit"/> writes it.
    /// </summary>
    private void Measure(string kind, int written, DateTimeOffset? acceptedAt)
    {
        metrics.RoomMessage(kind);
        metrics.Delivered(written);
        if (acceptedAt is { } at)
        {
            metrics.DeliveryLag((DateTimeOffset.UtcNow - at).TotalMilliseconds);
        }
    }

    private async Task ObserveAsync(ValueTask write, string roomId, MemberConnection member, int bytes)
    {
        try
        {
            await write;
        }
        catch (Exception ex)
        {
            FanoutLog.DeliveryFailed(logger, roomId, ex);
        }
        finally
        {
            member.AddPending(-bytes);
        }
    }

    /// <summary>
    /// After an enter gave up waiting for the entry's gate: once the gate is free, the entry is taken out of the
    /// map if it is still empty and unsubscribed (an enter that got the gate meanwhile subscribed, or is in it).
    /// </summary>
    private async Task RetireWhenFreeAsync(string roomId, RoomEntry entry)
    {
        await entry.Gate.WaitAsync();
        try
        {
            if (!entry.Retired && entry.Subscription is null)
            {
                RetireIfEmpty(roomId, entry);
            }
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Whether the replica keeps an entry for the room (tests: none is left behind).</summary>
    internal bool HasEntry(string roomId) => _rooms.ContainsKey(roomId);

    /// <summary>
    /// Called under the entry's gate when its subscribe failed (so there is nothing to unsubscribe): takes the
    /// entry out of the map, unless a connection is in it, so the next enter starts afresh.
    /// </summary>
    private void RetireIfEmpty(string roomId, RoomEntry entry)
    {
        if (entry.IsEmpty)
        {
            entry.Retired = true;
            _rooms.TryRemove(new KeyValuePair<string, RoomEntry>(roomId, entry));
        }
    }
}

/// <summary>A local connection, the member it belongs to and its token's removal generation, as the ticker renews it.</summary>
public readonly record struct TrackedConnection(string ConnectionId, string MemberId, long TokenRemovalGeneration);

/// <summary>A member some connection here holds, with the oldest removal generation among its tokens.</summary>
public readonly record struct TrackedMember(string RoomId, string MemberId, long TokenRemovalGeneration);
