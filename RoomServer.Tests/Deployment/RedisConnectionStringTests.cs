using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// A Redis connection string the client library cannot use refuses the start naming
/// <c>ConnectionStrings__Redis</c> and the form to write, never repeating the value (it may hold a password).
/// </summary>
public sealed class RedisConnectionStringTests
{
    [Theory]
    [InlineData("localhost:notaport", "names no Redis endpoint")]
    [InlineData("password=s3cret-pass", "names no Redis endpoint")]
    [InlineData(",", "names no Redis endpoint")]
    [InlineData("localhost:99999", "cannot be read")]
    [InlineData("localhost:6379,s3cret-pass=1", "cannot be read")]
    public void AnUnusableStringFailsNamingTheSettingAndTheForm(string connectionString, string why)
    {
        var result = new RedisConnectionStringValidator().Validate(null, new RedisConnectionOptions { ConnectionString = connectionString });

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("ConnectionStrings__Redis").And.Contain(why).And.Contain("e.g. localhost:6379")
            .And.NotContain("s3cret", "no part of the value is repeated");
    }

    [Theory]
    [InlineData("127.0.0.1:6379")]
    [InlineData("redis-1:6379,redis-2:6379,abortConnect=false,password=s3cret")]
    [InlineData("localhost")]
    public void AUsableStringPasses(string connectionString) =>
        new RedisConnectionStringValidator().Validate(null, new RedisConnectionOptions { ConnectionString = connectionString })
            .Succeeded.Should().BeTrue();

    [Fact]
    public async Task AReplicaGivenAStringWithoutAnEndpointRefusesToStartAndSaysWhichSetting()
    {
        var settings = new Dictionary<string, string>
        {
            ["RoomServer__ApiKeys__0"] = "redis-config-api-key-0123456789",
            ["RoomServer__Jwt__SigningKey"] = "redis-config-signing-key-0123456789-0123456789",
            ["ConnectionStrings__Redis"] = "localhost:notaport,password=s3cret-pass",
        };

        var start = () => RoomServerProcess.StartAsync(settings, startTimeout: TimeSpan.FromSeconds(30));

        var refused = await start.Should().ThrowAsync<InvalidOperationException>();
        refused.Which.Message.Should().Contain("exited during start-up").And.Contain("ConnectionStrings__Redis names no Redis endpoint")
            .And.NotContain("s3cret-pass");
    }
}
