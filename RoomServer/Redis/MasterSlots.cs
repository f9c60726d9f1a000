using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>The slot ranges one master serves, with a signature to compare them by.</summary>
internal sealed class MasterSlots(IReadOnlyList<SlotRange> ranges)
{
    public IReadOnlyList<SlotRange> Ranges { get; } = ranges;

    /// <summary>The ranges in slot order as one string: equal signatures, equal ranges.</summary>
    public string Signature { get; } = string.Join(',', ranges.OrderBy(r => r.From).Select(r => r.ToString()));

    public bool Contains(int slot) => Ranges.Any(r => slot >= r.From && slot <= r.To);

    /// <summary>How many slots these ranges share with <paramref name="other"/>.</summary>
    public int Overlap(MasterSlots other) =>
        Ranges.Sum(a => other.Ranges.Sum(b => Math.Max(0, Math.Min(a.To, b.To) - Math.Max(a.From, b.From) + 1)));
}
