using System.Globalization;
using System.Runtime;

namespace RoomShare.LoadTest.Measure;

/// <summary>
/// Keeps the generator's own garbage collections out of a write step (<c>--set gen.holdgc=on</c>): a no-GC region
/// sized to what the step allocates, entered before its schedule starts (the runtime collects once to make room)
/// and left when its sends are done. A generator paused in a collection stamps every ack and delivery that arrives
/// meanwhile late, and the step counts that against the servers (docs/bench/ab-generator-nogc.md). A step that
/// allocates more than its region collects as usual; the count says so (<see cref="GcHoldResult.Collections"/>).
/// </summary>
public sealed class GeneratorGcHold
{
    /// <summary>What the generator allocates per delivered event, with room to spare (measured: ~600 B at W1).</summary>
    public const long BytesPerDelivery = 1024;

    /// <summary>Over the deliveries' share: the sends, the acks and the ledger.</summary>
    public const long MarginBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Above this the region is not worth its reserve (the runtime sets aside as much again for large objects); a step
    /// whose estimate reaches it may run past it and collect mid-step.
    /// </summary>
    public const long MaxBytes = 2L * 1024 * 1024 * 1024;

    private readonly bool _entered;
    private readonly int _collectionsAtStart;

    private GeneratorGcHold(bool entered, int collectionsAtStart) => (_entered, _collectionsAtStart) = (entered, collectionsAtStart);

    /// <summary>The region for a step of <paramref name="changes"/> changes, each delivered to <paramref name="deliveriesPerChange"/> members.</summary>
    public static long RegionBytes(long changes, int deliveriesPerChange) =>
        Math.Min(MaxBytes, MarginBytes + (Math.Max(0, changes) * Math.Max(1, deliveriesPerChange) * BytesPerDelivery));

    /// <summary>Enters the region when <paramref name="enabled"/>; otherwise only counts collections.</summary>
    public static GeneratorGcHold Begin(bool enabled, long bytes)
    {
        var entered = false;
        if (enabled && GCSettings.LatencyMode != GCLatencyMode.NoGCRegion)
        {
            try
            {
                entered = GC.TryStartNoGCRegion(bytes);
            }
            catch (ArgumentOutOfRangeException)
            {
                // More than this runtime will reserve: the step runs with collections, and its count shows them.
            }
        }

        return new GeneratorGcHold(entered, Collections());
    }

    /// <summary>Leaves the region if the step stayed inside it, and says what happened.</summary>
    public GcHoldResult End()
    {
        var held = _entered && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;
        if (held)
        {
            try
            {
                GC.EndNoGCRegion();
            }
            catch (InvalidOperationException)
            {
                // A receive thread ran it out between the check and here: the runtime has left the region already.
                held = false;
            }
        }

        return new GcHoldResult(_entered, held, Collections() - _collectionsAtStart);
    }

    // Gen0's count rises with every collection of any generation.
    private static int Collections() => GC.CollectionCount(0);
}

/// <summary>
/// A write step's generator GC: whether it entered a no-GC region, whether the step stayed inside it, and how many
/// collections the generator made during the step's sends (0 when held).
/// </summary>
public sealed record GcHoldResult(bool Entered, bool Held, int Collections)
{
    public override string ToString() => Held
        ? "held"
        : Entered
            ? string.Create(CultureInfo.InvariantCulture, $"ran past its region: {Collections} collections")
            : string.Create(CultureInfo.InvariantCulture, $"{Collections} collections");
}
