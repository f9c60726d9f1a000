using System.Collections.Concurrent;
using RoomShare.LoadTest.Hub;

namespace RoomShare.LoadTest.Population;

/// <summary>
/// Every member's deliveries, checked in one place: order by room version per member (a lower version
/// than one already seen is out of order, the same one again a duplicate, a jump a gap), and each
/// <c>choice</c> event credited to the change that caused it in that step's <see cref="ChangeLedger"/>.
/// Counters only grow; a step reports the difference between two <see cref="Snapshot"/>s. Each delivery counts
/// once, in the step of its change: one that comes after its step's books closed is that step's late delivery
/// (<see cref="ChangeLedger.Late"/>), not an order fault of the step running when it arrives.
/// </summary>
public sealed class DeliveryTracker
{
    private const int MaxCloseReasons = 5;

    private readonly ConcurrentDictionary<int, ChangeLedger> _ledgers = new();
    private readonly ConcurrentQueue<string> _closeReasons = new();
    private long _choiceDeliveries;
    private long _outOfOrder;
    private long _duplicateVersions;
    private long _gaps;
    private long _strayChoices;
    private long _closedConnections;

    /// <summary>Choice events received by every member so far (duplicates included): the work the servers did.</summary>
    public long ChoiceDeliveries => Interlocked.Read(ref _choiceDeliveries);

    public IReadOnlyCollection<string> CloseReasons => _closeReasons;

    public void Register(ChangeLedger ledger) => _ledgers[ledger.Step] = ledger;

    /// <summary>What arrived after each step's books closed, over every step so far (read once the last step is over).</summary>
    public LateDeliveries Late() => _ledgers.Values.Aggregate(default(LateDeliveries), (sum, ledger) => sum + ledger.Late);

    /// <summary>What arrived after one step's books closed (its number, as its ledger's); none for a step not run.</summary>
    public LateDeliveries LateOf(int step) => _ledgers.TryGetValue(step, out var ledger) ? ledger.Late : default;

    public DeliveryCounters Snapshot() => new(
        Interlocked.Read(ref _choiceDeliveries),
        Interlocked.Read(ref _outOfOrder),
        Interlocked.Read(ref _duplicateVersions),
        Interlocked.Read(ref _gaps),
        Interlocked.Read(ref _strayChoices),
        Interlocked.Read(ref _closedConnections));

    internal void OnRoomEvent(Member member, RoomEventWire roomEvent, ref long lastVersion, long receivedAt)
    {
        var order = Order(roomEvent.Version, ref lastVersion);
        if (roomEvent.Type == "choice")
        {
            Interlocked.Increment(ref _choiceDeliveries);
            if (InvocationIds.TryParseChange(roomEvent.OpId, out var step, out var change) && _ledgers.TryGetValue(step, out var ledger))
            {
                if (ledger.OnReceipt(change, member.Index, member.RoomId, roomEvent.Quantity, receivedAt))
                {
                    // Its step's books had closed: counted there as late, its order fault too. Counted here, it would
                    // be the step running now's duplicate or out-of-order delivery — one delivery twice, the wrong step unclean.
                    // Earlier than one seen, or past a gap. The same version again is a duplicate, which the ledger counted.
                    if (order is VersionOrder.Earlier or VersionOrder.Gap)
                    {
                        ledger.LateOrderFault();
                    }

                    return;
                }
            }
            else
            {
                Interlocked.Increment(ref _strayChoices);
            }
        }

        switch (order)
        {
            case VersionOrder.Earlier:
                Interlocked.Increment(ref _outOfOrder);
                break;
            case VersionOrder.Same:
                Interlocked.Increment(ref _duplicateVersions);
                break;
            case VersionOrder.Gap:
                Interlocked.Increment(ref _gaps);
                break;
        }
    }

    /// <summary>Where a version stands against the member's last one; moves the last one on when it is newer.</summary>
    private static VersionOrder Order(long version, ref long lastVersion)
    {
        if (version < lastVersion)
        {
            return VersionOrder.Earlier;
        }

        if (version == lastVersion)
        {
            return VersionOrder.Same;
        }

        var order = version > lastVersion + 1 ? VersionOrder.Gap : VersionOrder.Next;
        lastVersion = version;
        return order;
    }

    private enum VersionOrder
    {
        Next,
        Gap,
        Same,
        Earlier,
    }

    internal void OnChangeCompleted(string invocationId, string? error, long receivedAt)
    {
        if (InvocationIds.TryParseChange(invocationId, out var step, out var change) && _ledgers.TryGetValue(step, out var ledger))
        {
            ledger.OnCompleted(change, error, receivedAt);
        }
    }

    internal void OnConnectionClosed(string reason)
    {
        Interlocked.Increment(ref _closedConnections);
        if (_closeReasons.Count < MaxCloseReasons)
        {
            _closeReasons.Enqueue(reason);
        }
    }
}

/// <summary>The tracker's counters at one instant.</summary>
public readonly record struct DeliveryCounters(
    long ChoiceDeliveries, long OutOfOrder, long DuplicateVersions, long Gaps, long StrayChoices, long ClosedConnections)
{
    public DeliveryCounters Since(DeliveryCounters earlier) => new(
        ChoiceDeliveries - earlier.ChoiceDeliveries,
        OutOfOrder - earlier.OutOfOrder,
        DuplicateVersions - earlier.DuplicateVersions,
        Gaps - earlier.Gaps,
        StrayChoices - earlier.StrayChoices,
        ClosedConnections - earlier.ClosedConnections);
}
