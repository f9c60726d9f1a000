using RoomShare.RoomServer.Redis;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// <see cref="UnstableSlotRetry"/>: a script refused with TRYAGAIN (a slot mid-migration) is sent again
/// until it runs; it gives up within the deadline, with the refusal; any other error is not retried.
/// (The real refusal, from a real cluster: RedisCluster/SlotMigrationTests.)
/// </summary>
public sealed class UnstableSlotRetryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task ARefusedCallIsSentAgainUntilItRuns()
    {
        var calls = 0;
        var result = await UnstableSlotRetry.RunAsync(
            () => ++calls < 4 ? throw TryAgain() : Task.FromResult("ran"), TimeSpan.FromSeconds(30), TimeProvider.System);

        result.Should().Be("ran");
        calls.Should().Be(4, "three refusals, then the call that ran");
    }

    [Fact]
    public async Task ACallRefusedUntilTheDeadlineFailsWithTheRefusalAndIsNotSentPastIt()
    {
        var calls = 0;
        var started = 0L;
        var lastSentAt = TimeSpan.Zero;
        var act = () => UnstableSlotRetry.RunAsync<string>(
            () =>
            {
                // From the first call: the assertion library's own first use comes before it.
                started = ++calls == 1 ? TimeProvider.System.GetTimestamp() : started;
                lastSentAt = TimeProvider.System.GetElapsedTime(started);
                throw TryAgain();
            },
            Deadline,
            TimeProvider.System);

        (await act.Should().ThrowAsync<RedisServerException>()).Which.Message.Should().StartWith("TRYAGAIN");
        calls.Should().BeGreaterThan(2, "it kept trying while the deadline allowed");
        lastSentAt.Should().BeGreaterThan(Deadline / 3, "the pauses between tries used the deadline");
        lastSentAt.Should().BeLessThan(Deadline * 2, "no pause starts that would end past the deadline (a pause may overshoot on a busy box)");
    }

    [Theory]
    [InlineData(RedisErrorKind.NoScript, "NOSCRIPT No matching script")]
    [InlineData(RedisErrorKind.ClusterDown, "CLUSTERDOWN The cluster is down")]
    [InlineData(RedisErrorKind.Unknown, "ERR something else")]
    public async Task AnyOtherErrorIsNotRetried(RedisErrorKind kind, string error)
    {
        var calls = 0;
        var act = () => UnstableSlotRetry.RunAsync<string>(() => { calls++; throw new RedisServerException(kind, CommandFlags.None, error); }, Deadline, TimeProvider.System);

        (await act.Should().ThrowAsync<RedisServerException>()).Which.Message.Should().Be(error);
        calls.Should().Be(1);
    }

    private static RedisServerException TryAgain() => new(RedisErrorKind.TryAgain, CommandFlags.None, "TRYAGAIN Multiple keys request during rehashing of slot");
}
