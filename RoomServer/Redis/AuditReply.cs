using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// audit.lua's page: <c>{'ok', oldest version ('' while the trail is empty), {event JSON...}}</c>,
/// with up to limit + 1 events (the extra one says there is more).
/// </summary>
internal static class AuditReply
{
    private const int Oldest = 1;
    private const int Events = 2;

    public static EventPage Read(ScriptReply reply, int limit)
    {
        var oldest = reply.Text(Oldest);
        var events = reply.Texts(Events).Select(RoomChannelProtocol.ParseStoredEvent).ToList();
        return EventPage.FromRead(events, limit, oldest.Length == 0 ? null : reply.Number(Oldest));
    }
}
