using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The members' connect buckets (<see cref="MemberTokenBuckets"/>): a burst, then the rate, with the wait
/// for the next token; a bucket that sat full gives one burst, not two; the sweep drops only buckets that
/// would be full. A manual clock: no test waits.
/// </summary>
public sealed class MemberTokenBucketsTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AFullBucketGivesTheBurstThenSaysHowLongUntilTheNextToken()
    {
        var clock = new ManualClock(Start);
        using var buckets = new MemberTokenBuckets(new MemberOpRate(PerSecond: 2, Burst: 3), clock);

        Enumerable.Range(0, 3).Select(i => buckets.TryTake("r/ann", out _)).ToList().Should().AllBeEquivalentTo(true);
        buckets.TryTake("r/ann", out var wait).Should().BeFalse();
        wait.Should().Be(TimeSpan.FromSeconds(0.5), "one token at 2 a second");
        buckets.TryTake("r/bob", out _).Should().BeTrue("each member has a bucket of their own");

        clock.Advance(TimeSpan.FromMilliseconds(400));
        buckets.TryTake("r/ann", out wait).Should().BeFalse("0.8 of a token is not one");
        wait.TotalMilliseconds.Should().BeApproximately(100, 0.001);
        clock.Advance(TimeSpan.FromMilliseconds(100));
        buckets.TryTake("r/ann", out _).Should().BeTrue("a refusal spent nothing: 1.0 token after 500 ms at 2/s");
    }

    [Fact]
    public void ABucketThatSatFullGivesOneBurstNotTwo()
    {
        var clock = new ManualClock(Start);
        using var buckets = new MemberTokenBuckets(new MemberOpRate(PerSecond: 2, Burst: 3), clock);
        buckets.TryTake("r/ann", out _);
        clock.Advance(TimeSpan.FromMinutes(10));

        Enumerable.Range(0, 3).Select(i => buckets.TryTake("r/ann", out _)).ToList().Should().AllBeEquivalentTo(true);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        buckets.TryTake("r/ann", out _).Should().BeFalse("ten idle minutes fill the bucket once: to the burst, no further");
    }

    [Fact]
    public void TheSweepDropsOnlyBucketsThatWouldBeFullAndADroppedMemberStartsFull()
    {
        var clock = new ManualClock(Start);
        using var buckets = new MemberTokenBuckets(new MemberOpRate(PerSecond: 2, Burst: 3), clock);
        for (var i = 0; i < 3; i++)
        {
            buckets.TryTake("r/ann", out _);
        }

        buckets.TryTake("r/bob", out _);
        clock.Advance(TimeSpan.FromSeconds(1));
        buckets.Sweep();
        buckets.Count.Should().Be(1, "bob is full again (2 + 2 tokens, at most 3), ann has 2 of 3");

        clock.Advance(TimeSpan.FromMilliseconds(500));
        buckets.Sweep();
        buckets.Count.Should().Be(0, "ann is full again too");
        Enumerable.Range(0, 3).Select(i => buckets.TryTake("r/ann", out _)).ToList().Should().AllBeEquivalentTo(true);
        buckets.TryTake("r/ann", out _).Should().BeFalse();
    }
}
