using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>Embedded mode's removal broadcast: the one replica hears its own removals at once.</summary>
public sealed class InProcessMemberRemovalBroadcast : IMemberRemovalBroadcast
{
    public event Action<MemberRemovedNotice>? Heard;

    /// <summary>Never raised: the one process hears every removal it makes, with no subscription to lose.</summary>
    public event Action? Resubscribed
    {
        add { }
        remove { }
    }

    public Task PublishAsync(MemberRemovedNotice removal)
    {
        Heard?.Invoke(removal);
        return Task.CompletedTask;
    }
}
