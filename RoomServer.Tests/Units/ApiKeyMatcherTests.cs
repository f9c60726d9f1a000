using RoomShare.RoomServer.Auth;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>What the constant-time comparison accepts: exactly a configured key, of any length, nothing else.</summary>
public sealed class ApiKeyMatcherTests
{
    private static readonly ApiKeyMatcher Matcher = new(["first-key-0123456789", "second-key-abcdefghij-much-longer-than-the-first"]);

    [Theory]
    [InlineData("first-key-0123456789")]
    [InlineData("second-key-abcdefghij-much-longer-than-the-first")]
    public void EachConfiguredKeyMatches(string key) => Matcher.Matches(key).Should().BeTrue();

    [Theory]
    [InlineData("")]
    [InlineData("first-key-012345678")]
    [InlineData("first-key-01234567890")]
    [InlineData("FIRST-KEY-0123456789")]
    [InlineData("first-key-0123456789 ")]
    [InlineData("second-key-abcdefghij")]
    [InlineData("first-key-0123456789second-key-abcdefghij-much-longer-than-the-first")]
    public void APrefixAnExtensionOrACaseChangeOfAKeyDoesNotMatch(string presented) => Matcher.Matches(presented).Should().BeFalse();

    [Fact]
    public void NoConfiguredKeysMatchNothing() => new ApiKeyMatcher([]).Matches("").Should().BeFalse();
}
