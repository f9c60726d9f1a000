using System.Collections.Concurrent;
using RoomShare.LoadTest.Measure;

namespace RoomShare.LoadTest.Population;

/// <summary>
/// One write step's book of changes: when each was due, whether it was acknowledged, and how many times
/// each member of its room received its event. Latencies are measured from the intended send time, so a
/// late sender cannot hide a slow server (no coordinated omission); changes before
/// <see cref="MeasuredFrom"/> are warm-up and stay out of the histograms, but not out of the loss count.
/// A receipt is credited only when it is the change's: the room it was sent to and the quantity it set
/// (the opId alone names the change, not what the server made of it); any other is a mismatch, a fault.
/// </summary>
public sealed class ChangeLedger
{
    private const int Pending = 0;
    private const int Acknowledged = 1;
    private const int Failed = 2;

    private readonly long[] _intended;
    private readonly string?[] _roomIds;
    private readonly int[] _quantities;
    private readonly int[] _outcome;
    private readonly long[] _acknowledgedAt; // [change]: the ack's arrival, 0 while none
    private readonly int[] _receipts; // [change * members + member], every receipt, late ones too
    private readonly int[] _receivedInStep; // [change]: members whose first receipt came before the books closed
    private readonly int _members;
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private int _sent;
    private long _firstReceipts;
    private long _duplicates;
    private long _mismatched;
    private long _acknowledged;
    private long _failed;
    // 1 once Seal has begun. A receipt reads it after announcing itself in _receiving, and Seal waits for
    // _receiving to empty after setting it (both through full fences), so every receipt is either in the
    // step's totals or late, never neither.
    private int _sealed;
    private int _receiving;
    private long _lateReceipts;
    private long _lateDuplicates;
    private long _lateMismatched;
    private long _lateOrderFaults;

    public ChangeLedger(int step, int changes, int membersPerRoom, int measuredFrom)
    {
        Step = step;
        MeasuredFrom = measuredFrom;
        _members = membersPerRoom;
        _intended = new long[changes];
        _roomIds = new string?[changes];
        _quantities = new int[changes];
        _outcome = new int[changes];
        _acknowledgedAt = new long[changes];
        _receipts = new int[changes * membersPerRoom];
        _receivedInStep = new int[changes];
    }

    public int Step { get; }

    public int MeasuredFrom { get; }

    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Fan-out: intended send → each member's receipt of the change's RoomEvent (first receipt only).</summary>
    public LatencyHistogram Fanout { get; } = new();

    /// <summary>Ack: intended send → the SetChoice completion.</summary>
    public LatencyHistogram Ack { get; } = new();

    /// <summary>Send lag: intended send → when the sender actually sent it. The generator's own delay.</summary>
    public LatencyHistogram SendLag { get; } = new();

    /// <summary>True once every sent change has an outcome and every member has each accepted change.</summary>
    public bool Settled
    {
        get
        {
            var sent = Sent;
            var failed = Interlocked.Read(ref _failed);
            return Interlocked.Read(ref _acknowledged) + failed == sent
                && Interlocked.Read(ref _firstReceipts) >= (sent - failed) * _members;
        }
    }

    /// <summary>Called by the sender just before the change goes out (one sender thread per step): what it sets, and where.</summary>
    public void MarkSending(int change, string roomId, int quantity, long intendedAt, long sendingAt)
    {
        Volatile.Write(ref _roomIds[change], roomId);
        Volatile.Write(ref _quantities[change], quantity);
        Volatile.Write(ref _intended[change], intendedAt);
        Volatile.Write(ref _sent, change + 1);
        if (change >= MeasuredFrom)
        {
            SendLag.Record(intendedAt, sendingAt);
        }
    }

    /// <summary>The send itself failed (the connection was gone): no outcome will come.</summary>
    public void MarkSendFailed(int change, string reason) => OnCompleted(change, $"send failed: {reason}", 0);

    /// <summary>
    /// A member's receipt of the change's event: <paramref name="roomId"/> is the room of the member who
    /// received it, <paramref name="quantity"/> what the event says was set. True when it came after
    /// <see cref="Seal"/>: it is counted here, in <see cref="Late"/>, and nowhere else.
    /// </summary>
    public bool OnReceipt(int change, int member, string roomId, int? quantity, long receivedAt)
    {
        if ((uint)change >= (uint)_outcome.Length || (uint)member >= (uint)_members)
        {
            return false;
        }

        if (Volatile.Read(ref _sealed) == 1)
        {
            // Already closed: late, and not one Seal waits for (a stream of late receipts never holds it up).
            return Receive(change, member, roomId, quantity, receivedAt, late: true);
        }

        Interlocked.Increment(ref _receiving);
        try
        {
            return Receive(change, member, roomId, quantity, receivedAt, late: Volatile.Read(ref _sealed) == 1);
        }
        finally
        {
            Interlocked.Decrement(ref _receiving);
        }
    }

    private bool Receive(int change, int member, string roomId, int? quantity, long receivedAt, bool late)
    {
        if (!string.Equals(Volatile.Read(ref _roomIds[change]), roomId, StringComparison.Ordinal) || quantity != Volatile.Read(ref _quantities[change]))
        {
            Interlocked.Increment(ref (late ? ref _lateMismatched : ref _mismatched));
            return late;
        }

        if (Interlocked.Increment(ref _receipts[(change * _members) + member]) == 1)
        {
            Interlocked.Increment(ref _firstReceipts);
            if (late)
            {
                Interlocked.Increment(ref _lateReceipts);
            }
            else
            {
                Interlocked.Increment(ref _receivedInStep[change]);
                if (change >= MeasuredFrom)
                {
                    Fanout.Record(Volatile.Read(ref _intended[change]), receivedAt);
                }
            }
        }
        else
        {
            Interlocked.Increment(ref (late ? ref _lateDuplicates : ref _duplicates));
        }

        return late;
    }

    public void OnCompleted(int change, string? error, long receivedAt)
    {
        if ((uint)change >= (uint)_outcome.Length)
        {
            return;
        }

        var outcome = error is null ? Acknowledged : Failed;
        if (Interlocked.CompareExchange(ref _outcome[change], outcome, Pending) != Pending)
        {
            return;
        }

        if (error is null)
        {
            Volatile.Write(ref _acknowledgedAt[change], receivedAt);
            Interlocked.Increment(ref _acknowledged);
            if (change >= MeasuredFrom)
            {
                Ack.Record(Volatile.Read(ref _intended[change]), receivedAt);
            }
        }
        else
        {
            Interlocked.Increment(ref _failed);
            _errors.AddOrUpdate(ErrorCode(error), 1, (_, n) => n + 1);
        }
    }

    /// <summary>
    /// Each measured change sent, in order: when it was due and when its ack came (null: not acknowledged yet).
    /// Both are <see cref="System.Diagnostics.Stopwatch"/> timestamps. Read after <see cref="Seal"/>, it also holds
    /// an ack that came after the books closed, which the step's totals count as unacknowledged.
    /// </summary>
    public IEnumerable<(long IntendedAt, long? AcknowledgedAt)> MeasuredAcks()
    {
        for (var change = MeasuredFrom; change < Sent; change++)
        {
            var acknowledgedAt = Volatile.Read(ref _acknowledgedAt[change]);
            yield return (Volatile.Read(ref _intended[change]), acknowledgedAt == 0 ? null : acknowledgedAt);
        }
    }

    /// <summary>
    /// Closes the books (after the drain): a member that never received the event of a change that was accepted, or
    /// never answered, is one missing delivery; a change never answered is counted unacknowledged too, and a refused one
    /// only as failed (its event is expected nowhere).
    /// </summary>
    public LedgerTotals Seal()
    {
        Interlocked.Exchange(ref _sealed, 1);
        // A receipt that read the books open finishes counting before they are totalled.
        var wait = default(SpinWait);
        while (Volatile.Read(ref _receiving) != 0)
        {
            wait.SpinOnce();
        }

        var sent = Sent;
        long missing = 0;
        var unacknowledged = 0;
        for (var change = 0; change < sent; change++)
        {
            var outcome = Volatile.Read(ref _outcome[change]);
            if (outcome == Failed)
            {
                continue;
            }

            if (outcome == Pending)
            {
                unacknowledged++;
            }

            // Counted from the receipts before the books closed: a late one, arriving while this loop runs, is not
            // the step's (it is in Late), so it must not make its member's delivery count here too.
            missing += _members - Volatile.Read(ref _receivedInStep[change]);
        }

        return new LedgerTotals(
            sent,
            Interlocked.Read(ref _acknowledged),
            Interlocked.Read(ref _failed),
            unacknowledged,
            missing,
            Interlocked.Read(ref _duplicates),
            Interlocked.Read(ref _mismatched),
            new Dictionary<string, int>(_errors, StringComparer.Ordinal));
    }

    /// <summary>
    /// What arrived after <see cref="Seal"/>, which the step's totals could not count: first receipts (the step
    /// counted them missing), duplicates and mismatches. Read once the scenario is over.
    /// </summary>
    public LateDeliveries Late => new(
        Interlocked.Read(ref _lateReceipts), Interlocked.Read(ref _lateDuplicates), Interlocked.Read(ref _lateMismatched), Interlocked.Read(ref _lateOrderFaults));

    /// <summary>A late receipt (<see cref="OnReceipt"/> said so) that came out of its member's version order: the step's fault.</summary>
    public void LateOrderFault() => Interlocked.Increment(ref _lateOrderFaults);

    /// <summary>"rate_limited" from "rate_limited: too many calls" (the hub's code prefix, DESIGN.md §5).</summary>
    private static string ErrorCode(string error)
    {
        var colon = error.IndexOf(':', StringComparison.Ordinal);
        var code = colon > 0 ? error[..colon] : error;
        return code.Length <= 60 ? code : code[..60];
    }
}

/// <summary>A sealed ledger's counts.</summary>
public sealed record LedgerTotals(
    int Sent, long Acknowledged, long Failed, int Unacknowledged, long Missing, long Duplicates, long Mismatched, IReadOnlyDictionary<string, int> Errors);

/// <summary>
/// Deliveries after a step's books closed: first receipts (counted missing then), duplicates, mismatches, and receipts
/// out of their member's version order (earlier than one seen, or past a gap).
/// </summary>
public readonly record struct LateDeliveries(long Receipts, long Duplicates, long Mismatched, long OrderFaults = 0)
{
    /// <summary>Faults the step's books could not count when they closed: they make it unclean once known.</summary>
    public long Faults => Duplicates + Mismatched + OrderFaults;

    public static LateDeliveries operator +(LateDeliveries a, LateDeliveries b) =>
        new(a.Receipts + b.Receipts, a.Duplicates + b.Duplicates, a.Mismatched + b.Mismatched, a.OrderFaults + b.OrderFaults);
}
