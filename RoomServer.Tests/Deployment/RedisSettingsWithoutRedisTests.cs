using Microsoft.Extensions.Configuration;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// <c>RoomServer__Redis__*</c> settings are checked in every mode (DESIGN.md §6): a malformed one refuses the
/// start naming it, and any one given without <c>ConnectionStrings__Redis</c> refuses it naming the missing
/// connection setting — otherwise the replica would quietly run embedded, sharing no state, while its
/// operator believes it uses Redis.
/// </summary>
public sealed class RedisSettingsWithoutRedisTests
{
    [Theory]
    [InlineData("ShardedPubSub", "on", "RoomServer__Redis__ShardedPubSub is set")]
    [InlineData("ReplicasToAcknowledge", "1", "RoomServer__Redis__ReplicasToAcknowledge is set")]
    [InlineData("ShardedPubSub", "auto", "RoomServer__Redis__ShardedPubSub is set")] // the default, but set: the operator meant Redis
    public void ARedisSettingWithoutTheConnectionStringFailsNamingBoth(string setting, string value, string named)
    {
        var result = Validate(new() { [$"RoomServer:Redis:{setting}"] = value });

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain(named).And.Contain("ConnectionStrings__Redis is not").And.Contain("runs embedded");
    }

    [Fact]
    public void SeveralAreNamedTogether() =>
        Validate(new() { ["RoomServer:Redis:ShardedPubSub"] = "off", ["RoomServer:Redis:ReplicasToAcknowledge"] = "0" })
            .FailureMessage.Should().Contain("RoomServer__Redis__ReplicasToAcknowledge, RoomServer__Redis__ShardedPubSub are set");

    [Theory]
    [InlineData(null, null)] // embedded, nothing of Redis
    [InlineData(null, "")] // an empty value sets nothing
    [InlineData("localhost:6379", "on")] // Redis mode: the settings apply
    public void NoRedisSettingOrAConnectionStringPasses(string? connectionString, string? sharded)
    {
        var settings = new Dictionary<string, string?>();
        if (connectionString is not null)
        {
            settings["ConnectionStrings:Redis"] = connectionString;
        }

        if (sharded is not null)
        {
            settings["RoomServer:Redis:ShardedPubSub"] = sharded;
        }

        Validate(settings).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void ABlankConnectionStringIsEmbeddedSoTheSettingsAreRefused() =>
        Validate(new() { ["ConnectionStrings:Redis"] = "  ", ["RoomServer:Redis:ShardedPubSub"] = "on" }).Failed.Should().BeTrue();

    [Theory]
    [InlineData(17)]
    [InlineData(-1)]
    public void AnOutOfRangeReplicaCountFailsNamingTheSetting(int replicas) =>
        new RedisOptionsValidator().Validate(null, new RoomServerOptions { Redis = new RedisOptions { ReplicasToAcknowledge = replicas } })
            .FailureMessage.Should().Contain("RoomServer:Redis: The field ReplicasToAcknowledge must be between 0 and 16");

    [Fact]
    public async Task AnEmbeddedReplicaGivenARedisSettingRefusesToStartNamingTheMissingConnectionSetting()
    {
        var start = () => RoomServerProcess.StartAsync(
            SecurityTestServer.Settings(("RoomServer__Redis__ShardedPubSub", "on")),
            startTimeout: TimeSpan.FromSeconds(30));

        var refused = await start.Should().ThrowAsync<InvalidOperationException>("a replica the operator tuned for Redis must not run alone in memory");
        refused.Which.Message.Should().Contain("exited during start-up")
            .And.Contain("RoomServer__Redis__ShardedPubSub is set, but ConnectionStrings__Redis is not");
    }

    [Fact]
    public async Task AnEmbeddedReplicaGivenAMalformedRedisSettingRefusesToStartNamingIt()
    {
        var start = () => RoomServerProcess.StartAsync(
            SecurityTestServer.Settings(("RoomServer__Redis__ReplicasToAcknowledge", "17")),
            startTimeout: TimeSpan.FromSeconds(30));

        var refused = await start.Should().ThrowAsync<InvalidOperationException>();
        refused.Which.Message.Should().Contain("exited during start-up")
            .And.Contain("RoomServer:Redis: The field ReplicasToAcknowledge must be between 0 and 16");
    }

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(Dictionary<string, string?> settings) =>
        new RedisSettingsWithoutRedisValidator(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .Validate(null, new RoomServerOptions());
}
