using RoomShare.RoomServer.Logging;

namespace RoomShare.RoomServer.Tests.Units;

public sealed class EndpointRedactionTests
{
    [Theory]
    [InlineData("https://hooks.example.com/orders", "https://hooks.example.com/orders")]
    [InlineData("https://hooks.example.com/orders?token=s3cr3t", "https://hooks.example.com/orders?*")]
    [InlineData("https://user:s3cr3t@hooks.example.com:8443/orders?key=a&b=c#frag", "https://hooks.example.com:8443/orders?*")]
    [InlineData("http://s3cr3t@127.0.0.1:1/hook", "http://127.0.0.1:1/hook")]
    [InlineData("https://hooks.example.com:443/", "https://hooks.example.com/")]
    [InlineData("https://hooks.slack.com/services/T000/B000/s3cr3t", "https://hooks.slack.com/services/…")]
    [InlineData("https://discord.com/api/webhooks/123/s3cr3t?wait=true", "https://discord.com/api/…?*")]
    [InlineData("https://hooks.example.com/orders/", "https://hooks.example.com/orders/")]
    [InlineData("http://[::1]:8080/a%20b", "http://[::1]:8080/a%20b")]
    [InlineData("not a url?token=s3cr3t", EndpointRedaction.Unparseable)]
    [InlineData("", EndpointRedaction.Unparseable)]
    public void UserInfoQueryAndFragmentAreNeverKept(string url, string logged) => EndpointRedaction.Redact(url).Should().Be(logged);
}
