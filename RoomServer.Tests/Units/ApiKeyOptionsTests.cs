using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// An API key travels in the X-Api-Key header, which drops surrounding spaces and carries visible
/// ASCII only: a key that could never be presented refuses start-up, named by position, not echoed.
/// </summary>
public sealed class ApiKeyOptionsTests
{
    private static RoomServerOptions Options(params string[] keys) => new()
    {
        ApiKeys = [.. keys],
        Jwt = { SigningKey = new string('k', 32) },
        ReplicaId = "r1",
    };

    [Theory]
    [InlineData(" 0123456789abcdef")]
    [InlineData("0123456789abcdef ")]
    [InlineData("0123456789 abcdef")]
    [InlineData("0123456789abcdef\t")]
    [InlineData("0123456789abcdéf")]
    public void AKeyAHeaderCannotCarryIsRefusedByPositionWithoutEchoingIt(string bad)
    {
        var result = new RoomServerOptionsValidator().Validate(null, Options("fedcba9876543210", bad));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer:ApiKeys:1 has spaces or characters a header cannot carry");
        result.FailureMessage.Should().NotContain(bad.Trim(), "a key is a secret: the log names its position only");
    }

    [Fact]
    public void VisibleAsciiKeysAreAccepted() =>
        new RoomServerOptionsValidator().Validate(null, Options("0123456789abcdef", "A-Z_a.z~0!9#$%&*+/=?^`|{}")).Succeeded.Should().BeTrue();
}
