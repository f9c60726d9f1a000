using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>Embedded mode's removal broadcast: the one replica hears its own removals at once.</summary>
public sealed class InProcessMemberRemovalBroadcast : IMemberRemovalBroadcast
{
    public event Action<MemberRemovedNotice>? Heard;

    public Task PublishAsync(MemberRemovedNotice removal)
    {
        Heard?.Invoke(removal);
        return Task.CompletedTask;
    }
}
