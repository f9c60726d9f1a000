extern alias loadtool;

using loadtool::RoomShare.LoadTest.Hub;
using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Population;
using loadtool::RoomShare.LoadTest.Profiles;
using loadtool::RoomShare.LoadTest.Results;
using loadtool::RoomShare.LoadTest.Scenarios;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// How the load tool's books credit a delivery (<c>ChangeLedger</c>): only to the change it is — the room it
/// was sent to and the quantity it set, not just the opId — and what it counts once a step's books are
/// closed, each delivery once, in the step of its change (<c>DeliveryTracker</c>); and which join steps count towards
/// W3's capacity (a step cut short by the connection bound).
/// </summary>
public sealed class LoadToolLedgerTests
{
    private const int Members = 3;

    private static ChangeLedger LedgerWithOneChange(string roomId = "room-a", int quantity = 7)
    {
        var ledger = new ChangeLedger(step: 1, changes: 1, membersPerRoom: Members, measuredFrom: 0);
        ledger.MarkSending(0, roomId, quantity, intendedAt: 100, sendingAt: 100);
        ledger.OnCompleted(0, error: null, receivedAt: 200);
        return ledger;
    }

    [Fact]
    public void AnEventCarryingAnotherRoomOrQuantityIsAMismatchNotADelivery()
    {
        var ledger = LedgerWithOneChange();

        ledger.OnReceipt(0, member: 0, "room-a", quantity: 7, receivedAt: 300);
        ledger.OnReceipt(0, member: 1, "room-b", quantity: 7, receivedAt: 300); // delivered to a member of another room
        ledger.OnReceipt(0, member: 2, "room-a", quantity: 8, receivedAt: 300); // the server set something else
        ledger.OnReceipt(0, member: 2, "room-a", quantity: null, receivedAt: 300); // no quantity at all

        var totals = ledger.Seal();
        totals.Mismatched.Should().Be(3);
        totals.Missing.Should().Be(2, "members 1 and 2 never received the change itself");
        totals.Duplicates.Should().Be(0);
        ledger.Settled.Should().BeFalse();
    }

    [Fact]
    public void EveryMemberReceivingTheChangeItselfSettlesTheBooksClean()
    {
        var ledger = LedgerWithOneChange();
        for (var member = 0; member < Members; member++)
        {
            ledger.OnReceipt(0, member, "room-a", 7, receivedAt: 300);
        }

        ledger.Settled.Should().BeTrue();
        var totals = ledger.Seal();
        (totals.Missing, totals.Duplicates, totals.Mismatched).Should().Be((0L, 0L, 0L));
        ledger.Fanout.Summarize().Count.Should().Be(Members);
    }

    [Fact]
    public void WhatArrivesAfterTheBooksCloseIsCountedAsLateNotLost()
    {
        var ledger = LedgerWithOneChange();
        ledger.OnReceipt(0, member: 0, "room-a", 7, receivedAt: 300);
        var totals = ledger.Seal();
        totals.Missing.Should().Be(2);

        ledger.OnReceipt(0, member: 0, "room-a", 7, receivedAt: 400); // a duplicate, after the seal
        ledger.OnReceipt(0, member: 1, "room-a", 7, receivedAt: 400); // a first receipt, after the seal
        ledger.OnReceipt(0, member: 1, "room-a", 7, receivedAt: 400); // and its duplicate
        ledger.OnReceipt(0, member: 2, "room-z", 7, receivedAt: 400); // a mismatch, after the seal

        ledger.Late.Should().Be(new LateDeliveries(Receipts: 1, Duplicates: 2, Mismatched: 1));
        ledger.Fanout.Summarize().Count.Should().Be(1, "a late receipt is not a latency the step measured");
    }

    [Fact]
    public void ATrackerAddsUpTheLateDeliveriesOfEveryStep()
    {
        var tracker = new DeliveryTracker();
        var first = LedgerWithOneChange();
        var second = new ChangeLedger(step: 2, changes: 1, membersPerRoom: Members, measuredFrom: 0);
        second.MarkSending(0, "room-b", 3, 100, 100);
        tracker.Register(first);
        tracker.Register(second);
        first.Seal();
        second.Seal();

        first.OnReceipt(0, 0, "room-a", 7, 500);
        first.OnReceipt(0, 0, "room-a", 7, 500);
        second.OnReceipt(0, 1, "room-b", 4, 500);

        tracker.Late().Should().Be(new LateDeliveries(Receipts: 1, Duplicates: 1, Mismatched: 1));
    }

    /// <summary>
    /// Regression: a duplicate of step 1's change that arrived during step 2 was step 1's late duplicate and also step 2's
    /// duplicate version (or, after step 2's own event, its out-of-order delivery): counted twice, and step 2 unclean.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ADuplicateThatArrivesDuringALaterStepCountsOnceAsItsOwnStepsLateDuplicate(bool afterTheLaterStepsEvent)
    {
        var tracker = new DeliveryTracker();
        var member = JoinedMember(tracker);

        var (first, firstTotals, firstCounters) = RunStep(tracker, step: 1, () => member.OnRoomEvent(Choice(step: 1, version: 1), 300));
        var (second, secondTotals, secondCounters) = RunStep(tracker, step: 2, () =>
        {
            if (afterTheLaterStepsEvent)
            {
                member.OnRoomEvent(Choice(step: 2, version: 2), 600);
            }

            member.OnRoomEvent(Choice(step: 1, version: 1), 700); // step 1's change again
            if (!afterTheLaterStepsEvent)
            {
                member.OnRoomEvent(Choice(step: 2, version: 2), 800);
            }
        });

        (firstTotals.Missing, firstTotals.Duplicates, firstCounters.DuplicateVersions).Should().Be((0L, 0L, 0L), "step 1 closed clean");
        var outOfOrder = afterTheLaterStepsEvent ? 1 : 0; // version 1 after version 2: also out of order, and step 1's fault
        first.Late.Should().Be(new LateDeliveries(Receipts: 0, Duplicates: 1, Mismatched: 0, OrderFaults: outOfOrder), "the duplicate is step 1's, counted once, late");
        (secondTotals.Missing, secondTotals.Duplicates, secondTotals.Mismatched).Should().Be((0L, 0L, 0L));
        (secondCounters.DuplicateVersions, secondCounters.OutOfOrder, secondCounters.Gaps, secondCounters.StrayChoices)
            .Should().Be((0L, 0L, 0L, 0L), "it is not step 2's duplicate or out-of-order delivery");
        second.Late.Should().Be(default(LateDeliveries));
        tracker.Late().Should().Be(new LateDeliveries(Receipts: 0, Duplicates: 1, Mismatched: 0, OrderFaults: outOfOrder), "once over the run");
        tracker.LateOf(1).Faults.Should().BeGreaterThan(0, "step 1 is judged unclean once its late duplicate is known");
        tracker.LateOf(2).Should().Be(default(LateDeliveries));
    }

    [Fact]
    public void ALateFirstReceiptOutOfOrderIsItsStepsFault()
    {
        var tracker = new DeliveryTracker();
        var member = JoinedMember(tracker);

        // Step 1's change never reached this member in its step; step 2's did, then step 1's came: late and out of order.
        var (first, firstTotals, _) = RunStep(tracker, step: 1, () => { });
        RunStep(tracker, step: 2, () => member.OnRoomEvent(Choice(step: 2, version: 2), 600));
        member.OnRoomEvent(Choice(step: 1, version: 1), 700);

        firstTotals.Missing.Should().BeGreaterThan(0, "step 1 closed without it");
        first.Late.Should().Be(new LateDeliveries(Receipts: 1, Duplicates: 0, Mismatched: 0, OrderFaults: 1), "counted late, and out of order there — it was counted nowhere");
        tracker.LateOf(1).Faults.Should().Be(1);
    }

    [Fact]
    public void ADuplicateWithinItsStepCountsOnceInThatStep()
    {
        var tracker = new DeliveryTracker();
        var member = JoinedMember(tracker);

        var (ledger, totals, counters) = RunStep(tracker, step: 1, () =>
        {
            member.OnRoomEvent(Choice(step: 1, version: 1), 300);
            member.OnRoomEvent(Choice(step: 1, version: 1), 400);
        });

        // One delivery, seen by change and by version: the run's summary takes the larger of the two.
        (totals.Duplicates, counters.DuplicateVersions).Should().Be((1L, 1L));
        (totals.Missing, counters.OutOfOrder, counters.Gaps).Should().Be((0L, 0L, 0L));
        ledger.Late.Should().Be(default(LateDeliveries), "it came before the books closed");
    }

    /// <summary>
    /// Regression: a receipt that read the books open while they were being closed was counted missing by the
    /// seal and not late either — a delivery lost to the books, and a clean step reported with loss. Every
    /// receipt arrives here, so whatever the seal counts missing must come back as late, exactly.
    /// </summary>
    [Fact]
    public void AReceiptRacingTheSealIsCountedEitherInTheStepOrLateNeverNeither()
    {
        const int trials = 400;
        const int changes = 64;
        for (var trial = 0; trial < trials; trial++)
        {
            var ledger = new ChangeLedger(step: 1, changes, membersPerRoom: Members, measuredFrom: 0);
            for (var change = 0; change < changes; change++)
            {
                ledger.MarkSending(change, "room-a", 7, intendedAt: 100, sendingAt: 100);
                ledger.OnCompleted(change, error: null, receivedAt: 200);
            }

            using var start = new Barrier(2);
            var receiver = new Thread(() =>
            {
                start.SignalAndWait();
                for (var change = 0; change < changes; change++)
                {
                    for (var member = 0; member < Members; member++)
                    {
                        ledger.OnReceipt(change, member, "room-a", 7, receivedAt: 300);
                    }
                }
            });
            receiver.Start();
            start.SignalAndWait();
            Thread.SpinWait(trial * 7 % 2000); // seal at a different point of the deliveries each trial
            var totals = ledger.Seal();
            receiver.Join();

            totals.Missing.Should().Be(ledger.Late.Receipts, $"trial {trial}: each receipt counts once, in the step or late");
        }
    }

    [Fact]
    public void AJoinStepCutShortByTheConnectionBoundIsCapped()
    {
        var settings = new JoinRampSettings(Rooms: 625, Rates: [2000, 2500, 3000, 4000], StepSeconds: 2, MaxConnectionsPerStep: 5000, P99LimitMs: 1000);

        settings.Capped(2000).Should().BeFalse();
        settings.Capped(2500).Should().BeFalse("2 500 × 2 s is exactly the bound");
        settings.Capped(3000).Should().BeTrue("6 000 joins would take 2 s; the bound stops it at 5 000 (1.7 s)");
        settings.Capped(4000).Should().BeTrue();
    }

    [Fact]
    public void ACappedStepThatPassesDoesNotRaiseTheJoinCapacityButOneThatBreaksStillCounts()
    {
        var steps = new[]
        {
            JoinStep(2000, meets: true, capped: false),
            JoinStep(2500, meets: true, capped: false),
            JoinStep(3000, meets: true, capped: true),
            JoinStep(4000, meets: false, capped: true),
        };

        var counted = steps.Where(JoinStepResult.Counts).ToList();
        counted.Select(s => s.Rate).Should().Equal(2000, 2500, 4000);
        Capacity.Of(counted, s => s.Rate, s => s.Valid, s => s.MeetsSlo).Should().Be(new Capacity(2500, "broken at 4000/s"));
        Capacity.Of(steps, s => s.Rate, s => s.Valid, s => s.MeetsSlo).Rate.Should().Be(3000, "without the rule the short step's pass would count");
    }

    [Fact]
    public void AStepWhoseLateDeliveriesHeldAFaultNoLongerCountsForTheCapacity()
    {
        var steps = new[] { WriteStep(1000), WriteStep(1250), WriteStep(1563) };
        Capacity.Of(steps, s => s.Rate, s => s.Decisive, s => s.MeetsSlo).Rate.Should().Be(1563);

        var judged = steps.Select(s => s.WithLate(s.Rate == 1250 ? new LateDeliveries(Receipts: 0, Duplicates: 0, Mismatched: 0, OrderFaults: 1) : default)).ToList();

        judged[1].Should().Match<WriteStepResult>(s => !s.Clean && !s.MeetsSlo && !s.MeetsRelaxedSlo && s.LateFaults == 1);
        judged[0].Should().BeSameAs(steps[0], "no late fault, nothing changes");
        Capacity.Of(judged, s => s.Rate, s => s.Decisive, s => s.MeetsSlo).Should().Be(new Capacity(1000, "broken at 1250/s"));
        steps[2].WithLate(new LateDeliveries(Receipts: 3, Duplicates: 0, Mismatched: 0)).Should().BeSameAs(steps[2], "late first receipts were counted missing already");
    }

    [Fact]
    public void AFirstAttemptRunAgainThatHadALateFaultCountsInsteadOfItsRetry()
    {
        // 1563/s: the first attempt (step 3) was slow and ran again (step 4, which passed); a duplicate of step 3's
        // arrived later. A step with a fault is never retried: step 3 counts, and breaks.
        var first = WriteStep(1563, step: 3, attempt: 1) with { MeetsSlo = false, MeetsRelaxedSlo = false };
        List<WriteStepResult> counted = [WriteStep(1000, step: 1), WriteStep(1250, step: 2), WriteStep(1563, step: 4, attempt: 2)];
        List<WriteStepResult> discarded = [WriteStep(250, step: 0, attempt: 0), first];

        var (steps, uncounted) = LateJudgement.Apply(counted, discarded, step => step == 3 ? new LateDeliveries(0, Duplicates: 1, 0) : default);

        steps.Select(s => s.Step).Should().Equal(1, 2, 3);
        steps[2].Clean.Should().BeFalse();
        uncounted.Select(s => s.Step).Should().Equal(0, 4);
        Capacity.Of(steps, s => s.Rate, s => s.Decisive, s => s.MeetsSlo).Should().Be(new Capacity(1250, "broken at 1563/s"));

        var (unchanged, _) = LateJudgement.Apply(counted, discarded, _ => default);
        unchanged.Should().Equal(counted, "no late fault, nothing moves");
    }

    [Fact]
    public void AResetHistogramForgetsWhatCameBeforeAndKeepsRecording()
    {
        var histogram = new LatencyHistogram();
        var ms = System.Diagnostics.Stopwatch.Frequency / 1000;
        histogram.Record(0, 300 * ms); // a warm-up's outlier
        histogram.Reset();
        histogram.Record(0, 2 * ms);

        var summary = histogram.Summarize();
        summary.Count.Should().Be(1);
        summary.Max.Should().BeApproximately(2, 0.01, "only what came after the reset");
    }

    /// <summary>A write step that met both limits, clean and valid.</summary>
    private static WriteStepResult WriteStep(int rate, int step = 1, int attempt = 1)
    {
        var none = new LatencyHistogram().Summarize();
        var sample = CpuSample.Take([]);
        return new WriteStepResult(
            step, rate, attempt, 10, rate * 10, rate * 10, 0, 0, new Dictionary<string, int>(), 0, 0, 0, none, none, none, none,
            0, 0, 0, 0, 0, 0, 0, 0, CpuUsage.Between(sample, sample, 10), 0, Valid: true, [], Clean: true, MeetsSlo: true, MeetsRelaxedSlo: true,
            new GcHoldResult(true, true, 0));
    }

    /// <summary>A member of room-a (one member per room here), joined at version 0.</summary>
    private static Member JoinedMember(DeliveryTracker tracker)
    {
        var member = new Member("room-a", room: 0, index: 0, "m0", "token", tracker);
        member.OnJoined(new JoinResultWire(new PositionWire("epoch1", 0), "r1"));
        return member;
    }

    /// <summary>The event of a step's one change (quantity 7) at a room version.</summary>
    private static RoomEventWire Choice(int step, long version) => new("room-a", version, "choice", InvocationIds.Change(step, 0), Quantity: 7);

    /// <summary>As WriteStep does: a ledger with one acknowledged change, the deliveries, the books closed, the tracker's counters over the step.</summary>
    private static (ChangeLedger Ledger, LedgerTotals Totals, DeliveryCounters Counters) RunStep(DeliveryTracker tracker, int step, Action deliveries)
    {
        var ledger = new ChangeLedger(step, changes: 1, membersPerRoom: 1, measuredFrom: 0);
        tracker.Register(ledger);
        var before = tracker.Snapshot();
        ledger.MarkSending(0, "room-a", 7, intendedAt: 100, sendingAt: 100);
        ledger.OnCompleted(0, error: null, receivedAt: 200);
        deliveries();
        var totals = ledger.Seal();
        return (ledger, totals, tracker.Snapshot().Since(before));
    }

    private static JoinStepResult JoinStep(int rate, bool meets, bool capped)
    {
        var none = new LatencyHistogram().Summarize();
        var sample = CpuSample.Take([]);
        return new JoinStepResult(rate, 10, 10, 0, [], none, none, none, CpuUsage.Between(sample, sample, 10), Valid: true, [], meets, capped);
    }
}
