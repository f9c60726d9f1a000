using RoomShare.LoadTest.Population;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// Who writes what, round-robin: change i goes to room i mod rooms, by member ⌊i/rooms⌋ mod members, on
/// the next menu item of that member, with a quantity that always differs from the member's current one
/// (a write that changes nothing sends no event). Continues across steps.
/// </summary>
public sealed class WriteSchedule(RoomPopulation population)
{
    private const int MaxQuantity = 99; // RoomServer__MaxQuantity's default

    private readonly int _rooms = population.Rooms.Count;
    private readonly int _members = population.MembersPerRoom;
    private readonly int _menu = population.MenuIds.Count;
    private readonly int[] _quantities = new int[population.Rooms.Count * population.MembersPerRoom * population.MenuIds.Count];
    private long _next;

    /// <summary>The next change (called from the one open-loop thread only).</summary>
    public (Member Writer, string MenuId, int Quantity) Next()
    {
        var i = _next++;
        var room = (int)(i % _rooms);
        var member = (int)(i / _rooms % _members);
        var item = (int)(i / ((long)_rooms * _members) % _menu);
        var slot = (((room * _members) + member) * _menu) + item;
        var quantity = (_quantities[slot] % MaxQuantity) + 1;
        _quantities[slot] = quantity;
        return (population.Rooms[room][member], population.MenuIds[item], quantity);
    }
}
