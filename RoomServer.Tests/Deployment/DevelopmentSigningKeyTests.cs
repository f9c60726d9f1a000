using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// Development generates a missing signing key for its process (README "Configuration"). With Redis, that key is the
/// process's alone, so a second replica would refuse its tokens: the replica warns (log 4003), naming the setting.
/// </summary>
public sealed class DevelopmentSigningKeyTests
{
    private const string Warning = "RoomServer__Jwt__SigningKey is not set, so Development generated one for this process";

    [Fact]
    public async Task ARedisReplicaWithAGeneratedSigningKeyWarnsThatOnlyItCanCheckItsTokens()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var server = await RoomServerProcess.StartAsync(
            new Dictionary<string, string> { ["ConnectionStrings__Redis"] = redis.Endpoint }, environment: "Development");

        await Poll.UntilAsync(() => server.Output.Contains(Warning, StringComparison.Ordinal), TimeSpan.FromSeconds(10), "log 4003");
    }

    [Theory]
    [InlineData(true, false)] // embedded: one process, its key is every replica's
    [InlineData(false, true)] // a configured key, the same on every replica
    public async Task NoWarningEmbeddedOrWithAConfiguredKey(bool embedded, bool configuredKey)
    {
        await using var redis = embedded ? null : await RedisServerProcess.StartAsync();
        var settings = new Dictionary<string, string>();
        if (redis is not null)
        {
            settings["ConnectionStrings__Redis"] = redis.Endpoint;
        }

        if (configuredKey)
        {
            settings["RoomServer__Jwt__SigningKey"] = "development-signing-key-0123456789abcdef0123";
        }

        await using var server = await RoomServerProcess.StartAsync(settings, environment: "Development");

        // The host logs this once every hosted service has started, through the same console queue: 4003 would be before it.
        await Poll.UntilAsync(() => server.Output.Contains("Application started", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the host's start");
        server.Output.Should().Contain("starting in").And.NotContain(Warning);
    }
}
