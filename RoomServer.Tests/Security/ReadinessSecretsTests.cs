using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>/readyz is public (nginx proxies it) and unauthenticated: its reason must never carry a Redis password.</summary>
public sealed class ReadinessSecretsTests
{
    [Fact]
    public async Task AnUnreachableRedisIsNotAnsweredWithTheConnectionStringsPassword()
    {
        const string password = "readyz-redis-password-91f3c2";
        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(
            ("ConnectionStrings__Redis", $"password={password},127.0.0.1:1,abortConnect=false")));
        using var anonymous = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };

        using var ready = await anonymous.GetAsync("/readyz");

        ((int)ready.StatusCode).Should().Be(503);
        var body = await ready.Content.ReadAsStringAsync();
        body.Should().NotContain(password);
        body.Should().Contain("127.0.0.1:1", "the reason still names the node it cannot reach");
    }
}
