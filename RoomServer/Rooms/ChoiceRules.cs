namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// How a choice's quantity changes: the one C# home of the quantity rules, used by the hub's check
/// (<see cref="Validate"/>) and the embedded store's apply (<see cref="Next"/>). The Redis script
/// repeats the clamp (Redis/Scripts/choice.lua) because there it is the atomic apply; the contract
/// suite runs against both.
/// </summary>
public static class ChoiceRules
{
    /// <summary>The quantity after the change: set replaces, adjust adds and is clamped to [0, max].</summary>
    public static int Next(int current, ChoiceMode mode, int value, int maxQuantity) => mode switch
    {
        ChoiceMode.Set => value,
        _ => (int)Math.Clamp((long)current + value, 0, maxQuantity),
    };

    /// <summary>
    /// Checks a request's value before it reaches a store; throws <c>invalid_quantity</c>. Any whole
    /// delta is accepted: its result is clamped, which is what makes adjustments commutative.
    /// </summary>
    public static void Validate(ChoiceMode mode, int value, int maxQuantity)
    {
        if (mode == ChoiceMode.Set && (value < 0 || value > maxQuantity))
        {
            throw new RoomException(RoomErrorCodes.InvalidQuantity, $"quantity must be between 0 and {maxQuantity}");
        }
    }
}
