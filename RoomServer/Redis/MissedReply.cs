using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// join.lua's resume: <c>{'missed', epoch, version, {event JSON...}, members{id,name,...},
/// online{id,...}, presenceSeq}</c>. The members, who is online and the presence sequence let the
/// resuming client refresh the presence it missed.
/// </summary>
internal static class MissedReply
{
    public const string Status = "missed";

    private const int Epoch = 1;
    private const int Version = 2;
    private const int Events = 3;
    private const int Members = 4;
    private const int Online = 5;
    private const int PresenceSeq = 6;

    public static JoinOutcome Read(ScriptReply reply)
    {
        var missed = reply.Texts(Events).Select(RoomChannelProtocol.ParseStoredEvent).ToList();
        var presence = SnapshotAssembler.Presence(
            reply.Pairs(Members).Select(p => (p.Key, p.Value)),
            reply.Texts(Online).ToHashSet(StringComparer.Ordinal));
        return new JoinOutcome(new RoomPosition(reply.Text(Epoch), reply.Number(Version)), null, missed, presence, reply.Number(PresenceSeq));
    }
}
