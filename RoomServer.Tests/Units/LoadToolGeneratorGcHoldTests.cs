extern alias loadtool;

using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Profiles;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The size of the no-GC region a write step's generator holds (<c>GeneratorGcHold.RegionBytes</c>), the setting that
/// turns it off (<c>--set gen.holdgc=on|off</c>) and what a step without it reports. Entering a region is left to the
/// quick profile (Bench/QuickProfileTests): in this test process it would hold every other test's allocations too.
/// </summary>
public sealed class LoadToolGeneratorGcHoldTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void TheRegionIsTheStepsDeliveriesAtAKilobyteEachPlusTheMargin()
    {
        // W1's first step at 250/s: 13 s of changes, each delivered to 8 members.
        GeneratorGcHold.RegionBytes(changes: 3250, deliveriesPerChange: 8).Should().Be((64 * MiB) + (3250L * 8 * 1024));
        GeneratorGcHold.RegionBytes(changes: 0, deliveriesPerChange: 8).Should().Be(64 * MiB, "the margin alone");
    }

    [Fact]
    public void TheRegionStopsAtItsCapSoABigRoomsStepCollectsPastIt()
    {
        // W2's top rate: 1 000 changes a second for 13 s, each to 250 members, would be 3.1 GiB.
        GeneratorGcHold.RegionBytes(changes: 13_000, deliveriesPerChange: 250).Should().Be(GeneratorGcHold.MaxBytes);
        GeneratorGcHold.MaxBytes.Should().Be(2048 * MiB);
    }

    [Fact]
    public void AStepWithTheHoldOffEntersNoRegionAndSaysSo()
    {
        var hold = GeneratorGcHold.Begin(enabled: false, bytes: 64 * MiB);
        var result = hold.End();

        result.Entered.Should().BeFalse();
        result.Held.Should().BeFalse();
        result.ToString().Should().Be($"{result.Collections} collections");
    }

    [Fact]
    public void AHeldStepReadsHeldAndOneThatRanPastItsRegionCountsItsCollections()
    {
        new GcHoldResult(Entered: true, Held: true, Collections: 0).ToString().Should().Be("held");
        new GcHoldResult(Entered: true, Held: false, Collections: 3).ToString().Should().Be("ran past its region: 3 collections");
        new GcHoldResult(Entered: false, Held: false, Collections: 5).ToString().Should().Be("5 collections");
    }

    [Theory]
    [InlineData("ON", true)]
    [InlineData("off", false)]
    public void TheHoldIsOffByDefaultAndTurnsOnWithGenHoldgc(string value, bool holds)
    {
        var full = Profiles.Get("full");
        full.GeneratorHoldsGc.Should().BeFalse("with the VM's DAMON running the hold did not help (docs/bench/w1-generator-gc-hold.md)");
        ProfileOverrides.Apply(full, [$"gen.holdgc={value}"]).GeneratorHoldsGc.Should().Be(holds);
    }

    [Fact]
    public void AnythingButOnOrOffIsRefused()
    {
        var act = () => ProfileOverrides.Apply(Profiles.Get("quick"), ["gen.holdgc=yes"]);
        act.Should().Throw<ArgumentException>().WithMessage("*gen.holdgc=yes*on or off*");
    }
}
