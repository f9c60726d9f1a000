using Microsoft.AspNetCore.SignalR;

namespace RoomShare.RoomServer.Fanout;

/// <summary>One local connection and the room it is in. Its fields change under its own lock.</summary>
internal sealed class MemberConnection(HubConnectionContext context)
{
    private readonly Lock _lock = new();
    private string? _roomId;
    private string? _removedFrom;
    private bool _joined;

    // The room's messages that came after Enter and before the store admitted the Join (null once admitted).
    private List<HeldMessage>? _held;
    private long _heldBytes;
    private long _pendingBytes;
    private int _evicted;

    public HubConnectionContext Context { get; } = context;

    public string ConnectionId => Context.ConnectionId;

    public string MemberId { get; private set; } = "";

    public long TokenRemovalGeneration { get; private set; }

    public long PendingBytes => Interlocked.Read(ref _pendingBytes);

    /// <summary>Bytes of room messages written to this connection that have not gone out yet.</summary>
    public long AddPending(long bytes) => Interlocked.Add(ref _pendingBytes, bytes);

    /// <summary>True once: the caller closes the connection.</summary>
    public bool TryMarkEvicted() => Interlocked.Exchange(ref _evicted, 1) == 0;

    public string? RoomId
    {
        get
        {
            lock (_lock)
            {
                return _roomId;
            }
        }
    }

    public bool Joined
    {
        get
        {
            lock (_lock)
            {
                return _joined;
            }
        }
    }

    public void Enter(string roomId, string memberId, long tokenRemovalGeneration)
    {
        lock (_lock)
        {
            _roomId = roomId;
            _joined = false;
            _held = [];
            _heldBytes = 0;
            MemberId = memberId;
            TokenRemovalGeneration = tokenRemovalGeneration;
        }
    }

    /// <summary>
    /// Writes a room message to the connection now (<paramref name="write"/>: the write SignalR started), unless
    /// it must not be: kept while the store has not admitted the Join (<paramref name="heldBytes"/>: what is kept
    /// so far), or dropped when the connection is not in that room (it left, and is on its way out of the room's
    /// list) or is being dropped to a resync.
    /// </summary>
    public bool TryWrite(string roomId, SerializedHubMessage message, bool counted, out ValueTask write, out long heldBytes)
    {
        write = default;
        heldBytes = 0;
        lock (_lock)
        {
            if (_roomId != roomId)
            {
                return false;
            }

            if (_held is null)
            {
                // Being dropped (to a resync, or closed for any reason): nothing more is written to it, nor counted as
                // delivered; its close may wait a while behind what it has queued (SignalR's send timeout).
                if (Volatile.Read(ref _evicted) != 0 || Context.ConnectionAborted.IsCancellationRequested)
                {
                    return false;
                }

                // Started under the lock, as Admit writes: a Leave that has returned either came after this
                // message was in the connection's queue, ahead of the Leave's own result, or stopped it.
                write = Context.WriteAsync(message);
                return true;
            }

            if (Volatile.Read(ref _evicted) == 0)
            {
                _held.Add(new HeldMessage(message, counted));
                _heldBytes += message.GetSerializedMessage(Context.Protocol).Length;
            }

            heldBytes = _heldBytes;
            return false;
        }
    }

    /// <summary>
    /// Writes the kept messages, under the lock, so a message delivered meanwhile waits and comes after them.
    /// Returns how many of them were room messages from the channel (the deliveries to count).
    /// </summary>
    public int Admit(string roomId, Action<SerializedHubMessage> write)
    {
        lock (_lock)
        {
            if (_roomId != roomId || _held is null)
            {
                return 0;
            }

            if (Volatile.Read(ref _evicted) != 0 || Context.ConnectionAborted.IsCancellationRequested)
            {
                // Dropped while its Join waited: what was kept is not written (nor counted), as TryWrite would not.
                _held = null;
                return 0;
            }

            var counted = 0;
            foreach (var held in _held)
            {
                write(held.Message);
                counted += held.Counted ? 1 : 0;
            }

            _held = null;
            return counted;
        }
    }

    public void MarkJoined(string roomId)
    {
        lock (_lock)
        {
            _joined = _roomId == roomId;
        }
    }

    public bool IsJoinedTo(string roomId)
    {
        lock (_lock)
        {
            return _joined && _roomId == roomId;
        }
    }

    public void Leave(string roomId, bool removed)
    {
        lock (_lock)
        {
            if (_roomId == roomId)
            {
                _roomId = null;
                _joined = false;
                _held = null;
            }

            // For good: the connection's token is refused in this room from now on.
            _removedFrom = removed ? roomId : _removedFrom;
        }
    }

    public bool WasRemovedFrom(string roomId)
    {
        lock (_lock)
        {
            return _removedFrom == roomId;
        }
    }

    /// <summary>A message kept for a Join; <paramref name="Counted"/>: a room message from the channel (not a tick's send).</summary>
    private readonly record struct HeldMessage(SerializedHubMessage Message, bool Counted);
}
