using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>RoomServer:IdempotencyKeyHours (DESIGN §6): how long an HTTP API write's Idempotency-Key is remembered, 1 hour to 30 days.</summary>
public sealed class IdempotencyKeyHoursOptionsTests
{
    private static RoomServerOptions Options(int hours) => new()
    {
        ApiKeys = ["0123456789abcdef"],
        Jwt = { SigningKey = new string('k', 32) },
        ReplicaId = "r1",
        IdempotencyKeyHours = hours,
    };

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(RoomServerOptionsValidator.MaxIdempotencyKeyHours + 1)]
    public void AnIdempotencyKeyLifetimeOutsideAnHourToThirtyDaysIsRefusedNamingTheSetting(int hours)
    {
        var result = new RoomServerOptionsValidator().Validate(null, Options(hours));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer:IdempotencyKeyHours must be between 1 and 720").And.Contain("RoomServer__IdempotencyKeyHours");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(24)]
    [InlineData(RoomServerOptionsValidator.MaxIdempotencyKeyHours)]
    public void AnIdempotencyKeyLifetimeFromAnHourToThirtyDaysIsAccepted(int hours)
    {
        new RoomServerOptionsValidator().Validate(null, Options(hours)).Succeeded.Should().BeTrue();
        Options(hours).IdempotencyKeyWindow.Should().Be(TimeSpan.FromHours(hours));
    }

    [Fact]
    public void TheDefaultIsADay()
    {
        new RoomServerOptions().IdempotencyKeyHours.Should().Be(24, "Stripe's and the IETF draft's usual window");
        new RoomServerOptionsValidator().Validate(null, Options(new RoomServerOptions().IdempotencyKeyHours)).Succeeded.Should().BeTrue();
    }
}
