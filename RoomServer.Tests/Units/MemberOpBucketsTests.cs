using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The member write bucket of embedded mode (the Redis scripts' take_member_op does the same sums):
/// a full bucket gives a burst, a refusal changes nothing, time refills it at the rate up to the burst,
/// and a clock that goes back refills nothing. A manual clock: no test waits.
/// </summary>
public sealed class MemberOpBucketsTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AFullBucketGivesTheBurstThenRefuses()
    {
        var buckets = new MemberOpBuckets(new MemberOpRate(PerSecond: 2, Burst: 3), new ManualClock(Start));

        Enumerable.Range(0, 3).Select(_ => buckets.TryTake("ann")).ToList().Should().AllBeEquivalentTo(true);
        buckets.TryTake("ann").Should().BeFalse();
        buckets.TryTake("bob").Should().BeTrue("each member has a bucket of their own");
    }

    [Fact]
    public void TimeRefillsAtTheRateUpToTheBurstAndARefusalCostsNothing()
    {
        var clock = new ManualClock(Start);
        var buckets = new MemberOpBuckets(new MemberOpRate(PerSecond: 2, Burst: 3), clock);
        for (var i = 0; i < 3; i++)
        {
            buckets.TryTake("ann");
        }

        clock.Advance(TimeSpan.FromMilliseconds(400));
        buckets.TryTake("ann").Should().BeFalse("0.8 of a token is not one");
        clock.Advance(TimeSpan.FromMilliseconds(100));
        buckets.TryTake("ann").Should().BeTrue("the refused take spent nothing: 1.0 token after 500 ms at 2/s");
        clock.Advance(TimeSpan.FromMinutes(10));
        Enumerable.Range(0, 3).Select(_ => buckets.TryTake("ann")).ToList().Should().AllBeEquivalentTo(true);
        buckets.TryTake("ann").Should().BeFalse("the bucket never holds more than the burst");
    }

    [Fact]
    public void AClockThatGoesBackRefillsNothing()
    {
        var clock = new ManualClock(Start);
        var buckets = new MemberOpBuckets(new MemberOpRate(PerSecond: 1, Burst: 1), clock);
        buckets.TryTake("ann").Should().BeTrue();

        clock.Advance(TimeSpan.FromSeconds(-30));

        buckets.TryTake("ann").Should().BeFalse();
    }

    [Fact]
    public void TheApisWritesAreNotAMembers()
    {
        var buckets = new MemberOpBuckets(new MemberOpRate(PerSecond: 1, Burst: 1), new ManualClock(Start));

        var act = () =>
        {
            for (var i = 0; i < 5; i++)
            {
                buckets.TakeFor(MemberOpBuckets.ApiCaller);
            }
        };

        act.Should().NotThrow();
        buckets.TakeFor("olga");
        var refused = () => buckets.TakeFor("olga");
        refused.Should().Throw<RoomException>().Which.Code.Should().Be(RoomErrorCodes.RateLimited);
    }

    [Fact]
    public void TheScriptArgumentIsRateColonBurst() =>
        new MemberOpRate(20, 40).ScriptArgument.Should().Be("20:40");
}
