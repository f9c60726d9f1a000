using RoomShare.LoadTest.Population;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// Who writes what, round-robin: change i goes to room i mod rooms, by member ⌊i/rooms⌋ mod members, on
/// the next menu item of that member, with a quantity from 1 to the servers' cap that always differs from
/// the member's current one (a write that changes nothing sends no event). Continues across steps.
/// </summary>
public sealed class WriteSchedule
{
    /// <summary>RoomServer__MaxQuantity's default: the cap when no replica stated one (an older replica's snapshot).</summary>
    public const int DefaultMaxQuantity = 99;

    /// <summary>The least cap the schedule works with: at 1, a write after the first could not change the quantity.</summary>
    public const int LeastMaxQuantity = 2;

    private readonly IReadOnlyList<Member[]> _seats;
    private readonly IReadOnlyList<string> _menuIds;
    private readonly int _maxQuantity;
    private readonly int _rooms;
    private readonly int _members;
    private readonly int[] _quantities;
    private long _next;

    public WriteSchedule(IReadOnlyList<Member[]> seats, IReadOnlyList<string> menuIds, int maxQuantity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQuantity, LeastMaxQuantity);
        _seats = seats;
        _menuIds = menuIds;
        _maxQuantity = maxQuantity;
        _rooms = seats.Count;
        _members = seats.Count == 0 ? 0 : seats[0].Length;
        _quantities = new int[_rooms * _members * menuIds.Count];
    }

    /// <summary>The next change (called from the one open-loop thread only).</summary>
    public (Member Writer, string MenuId, int Quantity) Next()
    {
        var i = _next++;
        var room = (int)(i % _rooms);
        var member = (int)(i / _rooms % _members);
        var item = (int)(i / ((long)_rooms * _members) % _menuIds.Count);
        var slot = (((room * _members) + member) * _menuIds.Count) + item;
        var quantity = (_quantities[slot] % _maxQuantity) + 1;
        _quantities[slot] = quantity;
        return (_seats[room][member], _menuIds[item], quantity);
    }
}
