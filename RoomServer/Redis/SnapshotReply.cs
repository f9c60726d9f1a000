using System.Globalization;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// prelude.lua's <c>snapshot_reply()</c> (snapshot.lua, and join.lua when it cannot resume):
/// <c>{'snapshot', epoch, version, state, name, menuJson, members{id,name,...},
/// choices{memberId:menuId,qty,...}, online{id,...}, presenceSeq}</c>.
/// </summary>
internal static class SnapshotReply
{
    public const string Status = "snapshot";

    private const int Epoch = 1;
    private const int Version = 2;
    private const int State = 3;
    private const int Name = 4;
    private const int MenuJson = 5;
    private const int Members = 6;
    private const int Choices = 7;
    private const int Online = 8;
    private const int PresenceSeq = 9;

    // maxQuantity: the cap this replica's store applies (choice.lua takes it per call; the room stores none).
    public static RoomSnapshot Read(string roomId, ScriptReply reply, int maxQuantity)
    {
        var menu = JsonSerializer.Deserialize<List<MenuItem>>(reply.Text(MenuJson), RoomChannelProtocol.Json) ?? [];
        var choices = reply.Pairs(Choices).Select(p =>
        {
            // The field is memberId:menuId; neither id may contain ':' (RoomIds).
            var separator = p.Key.LastIndexOf(':');
            return (p.Key[..separator], p.Key[(separator + 1)..], int.Parse(p.Value, CultureInfo.InvariantCulture));
        });
        return SnapshotAssembler.Build(
            roomId,
            reply.Text(Name),
            new RoomPosition(reply.Text(Epoch), reply.Number(Version)),
            reply.Text(State),
            menu,
            reply.Pairs(Members).Select(p => (p.Key, p.Value)),
            reply.Texts(Online).ToHashSet(StringComparer.Ordinal),
            choices,
            maxQuantity,
            reply.Number(PresenceSeq));
    }
}
