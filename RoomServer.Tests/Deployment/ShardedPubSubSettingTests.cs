using Microsoft.Extensions.Configuration;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// <c>RoomServer__Redis__ShardedPubSub</c> takes <c>auto</c>, <c>on</c> or <c>off</c> and nothing else (DESIGN.md §6):
/// the binder alone would take a number or a comma list, and <c>0</c> would mean <c>auto</c>.
/// </summary>
public sealed class ShardedPubSubSettingTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("2")]
    [InlineData("7")]
    [InlineData("on,off")]
    [InlineData("-1")]
    public void ANumberOrAListIsRefusedNamingTheSetting(string value)
    {
        Bind(value).Should().NotBeNull("the binder takes it, which is why the text is checked");

        var result = Validate(value);

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Be($"RoomServer:Redis:ShardedPubSub is '{value}': it must be auto, on or off (set RoomServer__Redis__ShardedPubSub).");
    }

    [Theory]
    [InlineData("auto", ShardedPubSubMode.Auto)]
    [InlineData("on", ShardedPubSubMode.On)]
    [InlineData("OFF", ShardedPubSubMode.Off)]
    [InlineData(" off ", ShardedPubSubMode.Off)]
    public void TheThreeNamesPassInAnyCase(string value, ShardedPubSubMode bound)
    {
        Bind(value)!.Redis.ShardedPubSub.Should().Be(bound);
        Validate(value).Succeeded.Should().BeTrue();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void UnsetPasses(string? value) => Validate(value).Succeeded.Should().BeTrue();

    [Fact]
    public async Task AReplicaGivenANumberRefusesToStartNamingIt()
    {
        var start = () => RoomServerProcess.StartAsync(
            SecurityTestServer.Settings(("RoomServer__Redis__ShardedPubSub", "0")),
            startTimeout: TimeSpan.FromSeconds(30));

        var refused = await start.Should().ThrowAsync<InvalidOperationException>();
        refused.Which.Message.Should().Contain("exited during start-up")
            .And.Contain("RoomServer:Redis:ShardedPubSub is '0': it must be auto, on or off (set RoomServer__Redis__ShardedPubSub).");
    }

    private static IConfiguration Configuration(string? value) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["RoomServer:Redis:ShardedPubSub"] = value }).Build();

    private static RoomServerOptions? Bind(string value) => Configuration(value).GetSection("RoomServer").Get<RoomServerOptions>();

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? value) =>
        new ShardedPubSubSettingValidator(Configuration(value)).Validate(null, new RoomServerOptions());
}
