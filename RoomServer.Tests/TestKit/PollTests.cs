using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

public sealed class PollTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task UntilReturnsOnceTheConditionHolds()
    {
        var reads = 0;

        await Poll.UntilAsync(() => ++reads == 3, TimeSpan.FromSeconds(10), "the third read");

        reads.Should().Be(3, "it polls until the condition holds, and no further");
    }

    [Fact]
    public async Task UntilFailsWithWhatItWaitedForAndHowFarItGot()
    {
        var reads = 0;

        var wait = () => Poll.UntilAsync(() => ++reads < 0, Short, () => $"a negative count (read {reads} times)");

        (await wait.Should().ThrowAsync<TimeoutException>()).Which.Message.Should().MatchRegex(@"^not within 0\.3 s: a negative count \(read \d+ times\)$");
        reads.Should().BeGreaterThan(1, "it read again before giving up");
    }

    [Fact]
    public async Task AnAsynchronousConditionTimesOutToo()
    {
        var wait = () => Poll.UntilAsync(() => Task.FromResult(false), Short, "never");

        await wait.Should().ThrowAsync<TimeoutException>().WithMessage("*never");
    }

    [Fact]
    public async Task ForReturnsTheSettledValueOrFailsWithTheLastOneRead()
    {
        var next = 0;
        (await Poll.ForAsync(() => Task.FromResult(++next), n => n >= 2, TimeSpan.FromSeconds(10), n => $"at {n}")).Should().Be(2);

        var last = 0;
        var wait = () => Poll.ForAsync(() => Task.FromResult(++last), _ => false, Short, n => $"still unsettled at {n}");
        (await wait.Should().ThrowAsync<TimeoutException>()).Which.Message.Should().Be($"not within 0.3 s: still unsettled at {last}");
    }

    [Fact]
    public async Task UntilSettledReturnsTheSettledValueOrTheLastOneRead()
    {
        var next = 0;
        (await Poll.UntilSettledAsync(() => Task.FromResult(++next), n => n >= 2, TimeSpan.FromSeconds(10))).Should().Be(2);

        var last = 0;
        var unsettled = await Poll.UntilSettledAsync(() => Task.FromResult(++last), _ => false, Short);
        unsettled.Should().Be(last, "on a timeout the caller gets the last value read, to assert on").And.BeGreaterThan(1);
    }
}
