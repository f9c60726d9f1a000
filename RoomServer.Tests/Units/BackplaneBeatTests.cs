using RoomShare.RoomServer.Redis;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// Degraded mode's judgement of one heartbeat (DESIGN.md §9). The heartbeat read how long its beat had gone unanswered,
/// then marked it deaf; a beat heard back in between was marked deaf all the same, so the replica refused writes, failed
/// <c>/readyz</c> and re-subscribed every room until the next beat. Judging and hearing are now one step each.
/// </summary>
public sealed class BackplaneBeatTests
{
    private static readonly TimeSpan DeafAfter = TimeSpan.FromMilliseconds(20);

    [Fact]
    public void ABeatHeardJustAfterItWasSeenLateLeavesItHearing()
    {
        var beat = new BackplaneBeat(RedisChannel.Literal("rs-heartbeat:test"), 0, []);
        beat.Sending();
        Thread.Sleep(DeafAfter * 3); // the beat's age, not a measured speed
        beat.UnansweredFor.Should().BeGreaterThanOrEqualTo(DeafAfter, "the heartbeat sees the beat late");

        beat.Heard().Should().BeFalse("it was not deaf yet");

        beat.JudgeSilence(DeafAfter).Should().Be((false, false), "the beat came back before it was judged");
        beat.IsHearing(DeafAfter).Should().BeTrue();
    }

    [Fact]
    public void ABeatStillUnansweredStartsOneDeafSpellThatTheNextBeatHeardEnds()
    {
        var beat = new BackplaneBeat(RedisChannel.Literal("rs-heartbeat:test"), 0, []);
        beat.Sending();
        Thread.Sleep(DeafAfter * 3);

        beat.JudgeSilence(DeafAfter).Should().Be((true, true), "late, and the spell starts");
        beat.JudgeSilence(DeafAfter).Should().Be((true, false), "still late, the same spell");
        beat.IsHearing(DeafAfter).Should().BeFalse();

        beat.Heard().Should().BeTrue("hearing a beat ends the spell");
        beat.IsHearing(DeafAfter).Should().BeTrue();
    }
}
