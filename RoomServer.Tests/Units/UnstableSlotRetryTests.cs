using RoomShare.RoomServer.Redis;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// <see cref="UnstableSlotRetry"/>: a script refused with TRYAGAIN (a slot mid-migration) is sent again
/// until it runs; no resend goes out once the deadline has passed, even after a pause that overslept;
/// any other error is not retried. A clock whose timers fire at once (moving time on by their wait,
/// or by more): no test waits, and a busy box cannot change the outcome. (The real refusal, from a
/// real cluster: RedisCluster/SlotMigrationTests.)
/// </summary>
public sealed class UnstableSlotRetryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task ARefusedCallIsSentAgainUntilItRuns()
    {
        var calls = 0;
        var result = await UnstableSlotRetry.RunAsync(
            () => ++calls < 4 ? throw TryAgain() : Task.FromResult("ran"), TimeSpan.FromSeconds(30), new JumpingClock(TimeSpan.Zero));

        result.Should().Be("ran");
        calls.Should().Be(4, "three refusals, then the call that ran");
    }

    [Fact]
    public async Task ACallRefusedUntilTheDeadlineFailsWithTheRefusalAfterPausesThatFitInIt()
    {
        var clock = new JumpingClock(TimeSpan.Zero);
        var sentAt = new List<TimeSpan>();
        var started = clock.GetTimestamp();
        var act = () => UnstableSlotRetry.RunAsync<string>(
            () =>
            {
                sentAt.Add(clock.GetElapsedTime(started));
                throw TryAgain();
            },
            Deadline,
            clock);

        (await act.Should().ThrowAsync<RedisServerException>()).Which.Message.Should().StartWith("TRYAGAIN");

        // Pauses of 10, 20, 40, 80 and 100 ms end by 250 ms; the next 100 ms would end past 300.
        sentAt.Select(t => (int)t.TotalMilliseconds).Should().Equal(0, 10, 30, 70, 150, 250);
    }

    [Fact]
    public async Task NothingIsSentAfterAPauseThatOversleptTheDeadline()
    {
        var calls = 0;
        var act = () => UnstableSlotRetry.RunAsync<string>(() => { calls++; throw TryAgain(); }, Deadline, new JumpingClock(Deadline));

        await act.Should().ThrowAsync<RedisServerException>();
        calls.Should().Be(1, "the first pause, 10 ms asked, ended 300 ms late: past the deadline");
    }

    [Theory]
    [InlineData(RedisErrorKind.NoScript, "NOSCRIPT No matching script")]
    [InlineData(RedisErrorKind.ClusterDown, "CLUSTERDOWN The cluster is down")]
    [InlineData(RedisErrorKind.Unknown, "ERR something else")]
    public async Task AnyOtherErrorIsNotRetried(RedisErrorKind kind, string error)
    {
        var calls = 0;
        var act = () => UnstableSlotRetry.RunAsync<string>(() => { calls++; throw new RedisServerException(kind, CommandFlags.None, error); }, Deadline, new JumpingClock(TimeSpan.Zero));

        (await act.Should().ThrowAsync<RedisServerException>()).Which.Message.Should().Be(error);
        calls.Should().Be(1);
    }

    private static RedisServerException TryAgain() => new(RedisErrorKind.TryAgain, CommandFlags.None, "TRYAGAIN Multiple keys request during rehashing of slot");

    /// <summary>A clock whose one-shot timers fire at once, having moved time on by their wait plus <paramref name="lateBy"/>.</summary>
    private sealed class JumpingClock(TimeSpan lateBy) : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Interlocked.Add(ref _ticks, (dueTime + lateBy).Ticks);
                ThreadPool.QueueUserWorkItem(_ => callback(state));
            }

            return new NoTimer();
        }

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
