using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

public sealed class TestTokensTests
{
    private const string Key = "testkit-signing-key-at-least-32-bytes-long";

    [Fact]
    public async Task AMintedTokenValidatesWithTheRightKeyAndCarriesTheClaims()
    {
        var token = TestTokens.Mint(Key, "room1", "m1", "Ann", role: "owner");

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, Parameters(Key));

        result.IsValid.Should().BeTrue(result.Exception?.Message);
        result.Claims["sub"].Should().Be("m1");
        result.Claims["room"].Should().Be("room1");
        result.Claims["name"].Should().Be("Ann");
        result.Claims["role"].Should().Be("owner");
        result.Claims.Should().ContainKey("exp");
    }

    [Fact]
    public async Task AWrongKeyIsRejected()
    {
        var token = TestTokens.Mint(Key, "room1", "m1", "Ann");

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, Parameters("another-signing-key-of-at-least-32-bytes"));

        result.IsValid.Should().BeFalse();
        result.Exception.Should().BeAssignableTo<SecurityTokenSignatureKeyNotFoundException>();
    }

    [Fact]
    public async Task AnExpiredTokenIsRejected()
    {
        var token = TestTokens.Mint(Key, "room1", "m1", "Ann", expires: DateTimeOffset.UtcNow.AddMinutes(-5));

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, Parameters(Key));

        result.IsValid.Should().BeFalse();
        result.Exception.Should().BeOfType<SecurityTokenExpiredException>();
    }

    private static TokenValidationParameters Parameters(string key) => new()
    {
        ValidIssuer = "roomshare",
        ValidAudience = "roomshare",
        IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)),
        ClockSkew = TimeSpan.Zero,
    };
}
