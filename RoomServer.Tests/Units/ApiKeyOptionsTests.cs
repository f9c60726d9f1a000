using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// An API key travels in the X-Api-Key header, which drops surrounding whitespace and carries no
/// control characters: a key that could never be presented refuses start-up, named by position, not
/// echoed. Inner spaces and non-ASCII letters can be sent, so such keys still start.
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
    [InlineData("0123456789abcdef\t")]
    [InlineData("0123456789abc\u0001def")]
    [InlineData("\n0123456789abcdef")]
    public void AKeyAHeaderCannotCarryIsRefusedByPositionWithoutEchoingIt(string bad)
    {
        var result = new RoomServerOptionsValidator().Validate(null, Options("fedcba9876543210", bad));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer:ApiKeys:1 starts or ends with whitespace, or holds a control character");
        result.FailureMessage.Should().NotContain(bad.Trim(), "a key is a secret: the log names its position only");
    }

    [Fact]
    public void KeysAHeaderCanCarryAreAccepted() =>
        new RoomServerOptionsValidator().Validate(null, Options("0123456789abcdef", "A-Z_a.z~0!9#$%&*+/=?^`|{}", "0123456789 abcdéf", "0123456789\tabcdef")).Succeeded.Should().BeTrue();
}
