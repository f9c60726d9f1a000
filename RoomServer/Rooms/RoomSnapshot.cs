namespace RoomShare.RoomServer.Rooms;

/// <summary>One dish on a room's menu. Money is integer minor units.</summary>
public sealed record MenuItem(string Id, string Name, long PriceMinor)
{
    /// <summary>The highest price a menu item may have, in minor units (a billion in a two-decimal currency).</summary>
    public const long MaxPriceMinor = 100_000_000_000;
}

public sealed record SnapshotMember(string MemberId, string DisplayName, bool Online);

public sealed record SnapshotChoice(string MemberId, string MenuId, int Quantity);

public sealed record SnapshotTotal(string MenuId, int Quantity, long AmountMinor);

/// <summary>
/// The whole room at one version (DESIGN.md §3). Zero quantities are absent. <see cref="MaxQuantity"/> is
/// the cap the serving replica's store applies to a member's quantity of one item (its
/// <c>RoomServer:MaxQuantity</c>: replica-wide, not stored with the room), so clients need not assume the default.
/// </summary>
public sealed record RoomSnapshot(
    string RoomId,
    string Name,
    string Epoch,
    long Version,
    string State,
    IReadOnlyList<MenuItem> Menu,
    IReadOnlyList<SnapshotMember> Members,
    IReadOnlyList<SnapshotChoice> Choices,
    IReadOnlyList<SnapshotTotal> Totals,
    long TotalMinor,
    int MaxQuantity,
    long PresenceSeq);
