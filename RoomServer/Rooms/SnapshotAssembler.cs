namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// Builds a <see cref="RoomSnapshot"/> from raw room state, computing totals from the menu, so both
/// stores produce identical snapshots (members by id, choices and totals in menu order — Redis hashes
/// have no stable order, so nothing here depends on insertion order).
/// </summary>
public static class SnapshotAssembler
{
    public static RoomSnapshot Build(
        string roomId,
        string name,
        RoomPosition position,
        string state,
        IReadOnlyList<MenuItem> menu,
        IEnumerable<(string MemberId, string DisplayName)> members,
        ISet<string> onlineMembers,
        IEnumerable<(string MemberId, string MenuId, int Quantity)> choices,
        int maxQuantity,
        long presenceSeq)
    {
        var menuOrder = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < menu.Count; i++)
        {
            menuOrder[menu[i].Id] = i;
        }

        var memberList = Presence(members, onlineMembers);

        var choiceList = choices
            .Where(c => c.Quantity > 0 && menuOrder.ContainsKey(c.MenuId))
            .OrderBy(c => menuOrder[c.MenuId])
            .ThenBy(c => c.MemberId, StringComparer.Ordinal)
            .Select(c => new SnapshotChoice(c.MemberId, c.MenuId, c.Quantity))
            .ToList();

        // One pass over the choices: a full room holds members × items of them, too many to scan per item.
        var quantities = new int[menu.Count];
        foreach (var choice in choiceList)
        {
            quantities[menuOrder[choice.MenuId]] += choice.Quantity;
        }

        var totals = new List<SnapshotTotal>();
        for (var i = 0; i < menu.Count; i++)
        {
            if (quantities[i] > 0)
            {
                totals.Add(new SnapshotTotal(menu[i].Id, quantities[i], quantities[i] * menu[i].PriceMinor));
            }
        }

        return new RoomSnapshot(
            roomId,
            name,
            position.Epoch,
            position.Version,
            state,
            menu,
            memberList,
            choiceList,
            totals,
            totals.Sum(t => t.AmountMinor),
            maxQuantity,
            presenceSeq);
    }

    /// <summary>Every member with whether they are online, by id.</summary>
    public static List<SnapshotMember> Presence(IEnumerable<(string MemberId, string DisplayName)> members, ISet<string> onlineMembers) =>
        members
            .OrderBy(m => m.MemberId, StringComparer.Ordinal)
            .Select(m => new SnapshotMember(m.MemberId, m.DisplayName, onlineMembers.Contains(m.MemberId)))
            .ToList();
}
