namespace RoomShare.RoomServer.Fanout;

/// <summary>A room's local connections (copy-on-write, so delivery reads them without a lock) and its subscription.</summary>
internal sealed class RoomEntry
{
    private readonly Lock _lock = new();
    private MemberConnection[] _members = [];

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public IAsyncDisposable? Subscription { get; set; }

    public bool Retired { get; set; }

    /// <summary>The furthest event written to the room's members here, so a tick need not repeat it.</summary>
    public MembersPosition Position { get; } = new();

    public MemberConnection[] Members => Volatile.Read(ref _members);

    public bool IsEmpty => Members.Length == 0;

    public void Add(MemberConnection connection)
    {
        lock (_lock)
        {
            if (!Array.Exists(_members, c => ReferenceEquals(c, connection)))
            {
                Volatile.Write(ref _members, [.. _members, connection]);
            }
        }
    }

    public bool Remove(string connectionId)
    {
        lock (_lock)
        {
            var remaining = Array.FindAll(_members, c => c.ConnectionId != connectionId);
            if (remaining.Length == _members.Length)
            {
                return false;
            }

            Volatile.Write(ref _members, remaining);
            return true;
        }
    }

    public List<TrackedConnection> Joined() =>
        Members.Where(c => c.Joined).Select(c => new TrackedConnection(c.ConnectionId, c.MemberId, c.TokenRemovalGeneration)).ToList();
}
