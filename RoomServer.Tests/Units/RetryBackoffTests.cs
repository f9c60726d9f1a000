using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The webhook backoff without a Retry-After: the base doubled per retry up to the maximum, spread ±25 % within
/// those bounds — never a wait below the base or above the maximum, and spread at both ends, so rooms that
/// failed together do not retry together.
/// </summary>
public sealed class RetryBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(1_000);
    private static readonly TimeSpan Max = TimeSpan.FromMilliseconds(60_000);
    private static readonly double[] Draws = [0.0, 0.2, 0.4, 0.6, 0.8, 0.999];

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(20)]
    [InlineData(int.MaxValue)]
    public void EveryWaitIsWithinTheBoundsAndTheDrawsSpreadThem(int retry)
    {
        var waits = Draws.Select(r => RetryBackoff.Delay(retry, Base, Max, r)).ToList();

        waits.Should().OnlyContain(w => w >= Base && w <= Max);
        waits.Should().OnlyHaveUniqueItems("a draw that clamps to a bound makes rooms failing together retry together");
    }

    [Fact]
    public void TheWaitDoublesPerRetryAroundItsMiddle()
    {
        RetryBackoff.Delay(3, Base, Max, 0.5).Should().Be(TimeSpan.FromMilliseconds(8_000));
        RetryBackoff.Delay(4, Base, Max, 0.0).Should().Be(TimeSpan.FromMilliseconds(12_000), "16 s less a quarter");
    }

    [Fact]
    public void AMaximumBelowTheBaseWaitsTheBase() =>
        RetryBackoff.Delay(2, Base, TimeSpan.FromMilliseconds(10), 0.5).Should().Be(Base);
}
