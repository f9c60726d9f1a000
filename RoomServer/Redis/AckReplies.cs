using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Redis;

/// <summary><c>{'ok', version}</c>: state.lua, refresh.lua, remove.lua, notice.lua, delete.lua.</summary>
internal static class VersionReply
{
    private const int Version = 1;

    public static VersionAck Read(ScriptReply reply) => new(reply.Number(Version));
}

/// <summary><c>{'ok', version}</c>, or <c>{'ok', version, 'again'}</c> for a member removed before: remove.lua.</summary>
internal static class RemovalReply
{
    private const int Version = 1;
    private const int Again = 2;

    public static RemovalAck Read(ScriptReply reply) => new(reply.Number(Version), reply.Length > Again && reply.Text(Again) == "again");
}

/// <summary>
/// <c>{'ok', version, quantity}</c>: choice.lua — with a fourth element <c>'replay'</c> when it answered from a known
/// opId (<see cref="ReadOutcome"/>) — and choice_replay.lua (always a replay).
/// </summary>
internal static class ChoiceReply
{
    private const int Version = 1;
    private const int Quantity = 2;
    private const int Replay = 3;

    public static ChoiceAck Read(ScriptReply reply) => new(reply.Number(Version), (int)reply.Number(Quantity));

    public static ChoiceOutcome ReadOutcome(ScriptReply reply) => new(Read(reply), reply.Length > Replay && reply.Text(Replay) == "replay");
}

/// <summary><c>{'ok', epoch, version}</c>: failover.lua, and the start of sweep.lua's reply.</summary>
internal static class PositionReply
{
    private const int Epoch = 1;
    private const int Version = 2;

    public static RoomPosition Read(ScriptReply reply) => new(reply.Text(Epoch), reply.Number(Version));
}

/// <summary><c>{'ok', epoch, version, field...}</c>: sweep.lua — the position, then the presence fields of removed members' connections.</summary>
internal static class SweepReply
{
    private const int FirstRemoved = 3;

    public static SweepOutcome Read(ScriptReply reply, IReadOnlyCollection<LocalConnection> swept)
    {
        var position = PositionReply.Read(reply);
        if (reply.Length <= FirstRemoved)
        {
            // Nobody removed: the usual tick, which need not build a field name per connection again.
            return new SweepOutcome(position, []);
        }

        var removed = reply.TextsFrom(FirstRemoved).ToHashSet(StringComparer.Ordinal);
        return new SweepOutcome(position, [.. swept.Where(c => removed.Contains(c.Key.Field))]);
    }
}
