using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary><c>RoomServer:TrustedProxies</c> takes addresses and CIDR networks; anything else refuses start-up, naming the setting.</summary>
public sealed class TrustedProxiesTests
{
    private static RoomServerOptions With(params string[] proxies) => new()
    {
        ApiKeys = ["trusted-proxies-key-0123456789"],
        Jwt = new JwtOptions { SigningKey = "trusted-proxies-signing-key-0123456789-0123456789" },
        TrustedProxies = [.. proxies],
    };

    [Theory]
    [InlineData("172.16.0.0/12")]
    [InlineData("10.1.2.3")]
    [InlineData("fd00::/8")]
    [InlineData("::1")]
    [InlineData("::ffff:172.18.0.0/112")]
    [InlineData("172.18.0.1/16")] // the platform masks the host bits: 172.18.0.0/16, what was meant
    public void AnAddressOrANetworkPasses(string proxy) =>
        new RoomServerOptionsValidator().Validate(null, With(proxy)).Succeeded.Should().BeTrue();

    [Theory]
    [InlineData("nginx")]
    [InlineData("172.16.0.0/33")]
    [InlineData("10.0.0.0/8, 192.168.0.0/16")]
    [InlineData("")]
    [InlineData("10")] // the platform's parser alone reads it as 0.0.0.10
    [InlineData("10.1")] // and this as 10.0.0.1
    [InlineData("172.16/12")]
    [InlineData("10/8")] // 0.0.0.0/8 to the platform's parser
    [InlineData("010.0.0.1")] // octal: 8.0.0.1
    [InlineData("0x0a.0.0.0/8")] // hex: 10.0.0.0/8
    [InlineData("10.0.0.010")]
    public void AnythingElseFailsNamingTheSetting(string proxy)
    {
        var result = new RoomServerOptionsValidator().Validate(null, With(proxy));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer:TrustedProxies").And.Contain($"'{proxy}'");
    }
}
