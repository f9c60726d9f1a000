using System.Diagnostics.Metrics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Metrics;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>Token lifetime with no clock skew: refused from the second of <c>exp</c> on, at connect and on every hub call.</summary>
public sealed class TokenLifetimeTests
{
    private static readonly DateTimeOffset Exp = DateTimeOffset.FromUnixTimeSeconds(1_900_000_000);

    [Theory]
    [InlineData(-1000, true)]
    [InlineData(-1, true)]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(1000, false)]
    public void ATokenIsValidUntilTheInstantItsExpNamesAndNotAfter(int millisecondsAfterExp, bool valid)
    {
        var now = Exp.AddMilliseconds(millisecondsAfterExp);

        TokenLifetime.IsWithinLifetime(Exp.UtcDateTime.AddMinutes(-10), Exp.UtcDateTime, now).Should().Be(valid);
        TokenLifetime.HasExpired(UserExpiringAt(Exp), now).Should().Be(!valid);
    }

    [Fact]
    public void ATokenWithoutExpIsNeverWithinItsLifetime()
    {
        TokenLifetime.IsWithinLifetime(null, null, Exp).Should().BeFalse();
        TokenLifetime.HasExpired(new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "ann")], "test")), Exp.AddYears(-10)).Should().BeTrue();
    }

    [Fact]
    public void NotBeforeAllowsAReplicaWhoseClockIsALittleBehindButNotMore()
    {
        var now = Exp.AddHours(-1);
        TokenLifetime.IsWithinLifetime(now.UtcDateTime.AddSeconds(5), Exp.UtcDateTime, now).Should().BeTrue();
        TokenLifetime.IsWithinLifetime(now.UtcDateTime + TokenLifetime.NotBeforeAllowance + TimeSpan.FromSeconds(1), Exp.UtcDateTime, now).Should().BeFalse();
    }

    [Fact]
    public async Task AHubCallAfterExpiryFailsWithUnauthorizedAndClosesTheConnection()
    {
        var caller = new Caller(UserExpiringAt(Exp));
        var filter = new ExpiredTokenFilter(new FixedTime(Exp), Metrics(), NullLogger<ExpiredTokenFilter>.Instance);
        var reachedHub = false;

        var call = async () => await filter.InvokeMethodAsync(Invocation(caller), _ =>
        {
            reachedHub = true;
            return ValueTask.FromResult<object?>(null);
        });

        (await call.Should().ThrowAsync<HubException>()).Which.Message.Should().StartWith("unauthorized:");
        reachedHub.Should().BeFalse("the call must not run on an expired token");
        (await caller.Aborted.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue("the connection is closed after the refusal");
    }

    [Fact]
    public async Task AHubCallBeforeExpiryRuns()
    {
        var caller = new Caller(UserExpiringAt(Exp));
        var filter = new ExpiredTokenFilter(new FixedTime(Exp.AddSeconds(-1)), Metrics(), NullLogger<ExpiredTokenFilter>.Instance);

        var result = await filter.InvokeMethodAsync(Invocation(caller), _ => ValueTask.FromResult<object?>("ran"));

        result.Should().Be("ran");
        caller.Aborted.Task.IsCompleted.Should().BeFalse();
    }

    private static ClaimsPrincipal UserExpiringAt(DateTimeOffset exp) => new(new ClaimsIdentity(
        [new Claim("sub", "ann"), new Claim("room", "r1"), new Claim("exp", exp.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture))],
        "test"));

    private static RoomMetrics Metrics()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new RoomMetrics(services.GetRequiredService<IMeterFactory>());
    }

    private static HubInvocationContext Invocation(HubCallerContext caller) =>
        new(caller, new ServiceCollection().BuildServiceProvider(), new EmptyHub(), typeof(EmptyHub).GetMethod(nameof(EmptyHub.Ping))!, []);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed class EmptyHub : Hub
    {
        public static void Ping()
        {
        }
    }

    private sealed class Caller(ClaimsPrincipal user) : HubCallerContext
    {
        public TaskCompletionSource<bool> Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override string ConnectionId => "c1";

        public override string? UserIdentifier => "ann";

        public override ClaimsPrincipal? User => user;

        public override IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override CancellationToken ConnectionAborted => CancellationToken.None;

        public override void Abort() => Aborted.TrySetResult(true);
    }
}
