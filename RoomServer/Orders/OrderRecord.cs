using System.Text.Json;
using System.Text.Json.Serialization;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// The body POSTed to every webhook (DESIGN.md §8): the order as it stood at the transition.
/// Built once per record from the room's state at that version, so every attempt sends the same bytes.
/// </summary>
public sealed record OrderRecord(
    string Type,
    string OrderId,
    string RoomId,
    string Epoch,
    long Version,
    string State,
    string Name,
    IReadOnlyList<OrderMember> Members,
    IReadOnlyList<SnapshotChoice> Choices,
    IReadOnlyList<SnapshotTotal> Totals,
    long TotalMinor,
    string By,
    string At)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The record of a transition, from the room right after it (members by id, choices and totals in menu order).</summary>
    public static OrderRecord From(string type, RoomSnapshot room, string by, string at) => new(
        type,
        OrderRecordTypes.OrderId(room.RoomId, room.Version),
        room.RoomId,
        room.Epoch,
        room.Version,
        room.State,
        room.Name,
        room.Members.Select(m => new OrderMember(m.MemberId, m.DisplayName)).ToList(),
        room.Choices,
        room.Totals,
        room.TotalMinor,
        by,
        at);

    /// <summary>The exact bytes sent and signed (camelCase JSON).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

public sealed record OrderMember(string MemberId, string DisplayName);
