extern alias loadtool;

using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Population;
using loadtool::RoomShare.LoadTest.Profiles;
using loadtool::RoomShare.LoadTest.Results;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// How the load tool's books credit a delivery (<c>ChangeLedger</c>): only to the change it is — the room it
/// was sent to and the quantity it set, not just the opId — and what it counts once a step's books are
/// closed; and which join steps count towards W3's capacity (a step cut short by the connection bound).
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

    private static JoinStepResult JoinStep(int rate, bool meets, bool capped)
    {
        var none = new LatencyHistogram().Summarize();
        var sample = CpuSample.Take([]);
        return new JoinStepResult(rate, 10, 10, 0, [], none, none, none, CpuUsage.Between(sample, sample, 10), Valid: true, [], meets, capped);
    }
}
