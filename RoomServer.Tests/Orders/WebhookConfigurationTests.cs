using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>A webhook the server could not sign for or reach refuses start-up, naming the setting to fix.</summary>
[Trait("Suite", "Orders")]
public sealed class WebhookConfigurationTests
{
    private static RoomServerOptions With(params WebhookEndpoint[] endpoints) => new() { Webhooks = new WebhookOptions { Endpoints = [.. endpoints] } };

    [Theory]
    [InlineData("", "a-secret-of-enough-length", "RoomServer__Webhooks__Endpoints__0__Url")]
    [InlineData("not a url", "a-secret-of-enough-length", "RoomServer__Webhooks__Endpoints__0__Url")]
    [InlineData("/relative/path", "a-secret-of-enough-length", "RoomServer__Webhooks__Endpoints__0__Url")]
    [InlineData("ftp://kitchen.example/orders", "a-secret-of-enough-length", "RoomServer__Webhooks__Endpoints__0__Url")]
    [InlineData("https://kitchen.example/orders", "", "RoomServer__Webhooks__Endpoints__0__Secret")]
    [InlineData("https://kitchen.example/orders", "short", "RoomServer__Webhooks__Endpoints__0__Secret")]
    public void ABadEndpointFailsValidationNamingItsSetting(string url, string secret, string setting)
    {
        var result = new WebhookOptionsValidator().Validate(null, With(new WebhookEndpoint { Url = url, Secret = secret }));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain(setting);
    }

    [Fact]
    public void AGoodEndpointAndNoEndpointsAtAllPass()
    {
        new WebhookOptionsValidator().Validate(null, With(new WebhookEndpoint { Url = "https://kitchen.example/orders", Secret = "a-secret-of-enough-length" }))
            .Succeeded.Should().BeTrue();
        new WebhookOptionsValidator().Validate(null, new RoomServerOptions()).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void OneUrlTwiceAndOutOfRangeNumbersFail()
    {
        var endpoint = new WebhookEndpoint { Url = "https://kitchen.example/orders", Secret = "a-secret-of-enough-length" };
        var options = With(endpoint, endpoint);
        options.Webhooks.MaxAttempts = 0;
        options.Webhooks.TimeoutSeconds = 0;
        options.Webhooks.MaxConcurrentRequests = 0;

        var result = new WebhookOptionsValidator().Validate(null, options);

        result.FailureMessage.Should().Contain("must not name one URL twice")
            .And.Contain("RoomServer__Webhooks__MaxAttempts").And.Contain("RoomServer__Webhooks__TimeoutSeconds")
            .And.Contain("RoomServer:Webhooks:MaxConcurrentRequests must be between 1 and 1000");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_001)]
    public void ASettledRecordsBoundOutOfRangeFailsNamingItsSetting(int kept)
    {
        var options = new RoomServerOptions();
        options.Webhooks.SettledRecordsKept = kept;

        var result = new WebhookOptionsValidator().Validate(null, options);

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer:Webhooks:SettledRecordsKept must be between 1 and 10000 (set RoomServer__Webhooks__SettledRecordsKept)");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(10_000)]
    public void ASettledRecordsBoundInRangePasses(int kept)
    {
        var options = new RoomServerOptions();
        options.Webhooks.SettledRecordsKept = kept;

        new WebhookOptionsValidator().Validate(null, options).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void ByDefaultARoomKeepsAHundredSettledRecords() => new WebhookOptions().SettledRecordsKept.Should().Be(100);

    [Fact]
    public async Task AReplicaWithAMissingSecretOrAMalformedUrlRefusesToStartAndSaysWhichSetting()
    {
        var settings = new Dictionary<string, string>
        {
            ["RoomServer__ApiKeys__0"] = "orders-config-api-key-0123456789",
            ["RoomServer__Jwt__SigningKey"] = "orders-config-signing-key-0123456789-0123456789",
            ["RoomServer__Webhooks__Endpoints__0__Url"] = "https://kitchen.example/orders",
            ["RoomServer__Webhooks__Endpoints__1__Url"] = "kitchen.example:orders",
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = "a-secret-of-enough-length",
        };

        var start = () => RoomServerProcess.StartAsync(settings);

        var refused = await start.Should().ThrowAsync<InvalidOperationException>();
        refused.Which.Message.Should().Contain("exited during start-up")
            .And.Contain("RoomServer__Webhooks__Endpoints__0__Secret")
            .And.Contain("RoomServer__Webhooks__Endpoints__1__Url");
    }

    [Fact]
    public async Task AnEndpointAfterAGapInTheNumbersIsNamedByTheNumberTheOperatorGaveIt()
    {
        // Endpoint 1 removed, 0 and 2 kept: the list binds them as its items 0 and 1, but there is no __1__ to fix.
        var settings = new Dictionary<string, string>
        {
            ["RoomServer__ApiKeys__0"] = "orders-config-api-key-0123456789",
            ["RoomServer__Jwt__SigningKey"] = "orders-config-signing-key-0123456789-0123456789",
            ["RoomServer__Webhooks__Endpoints__0__Url"] = "https://kitchen.example/orders",
            ["RoomServer__Webhooks__Endpoints__0__Secret"] = "a-secret-of-enough-length",
            ["RoomServer__Webhooks__Endpoints__2__Url"] = "https://bar.example/orders",
        };

        var start = () => RoomServerProcess.StartAsync(settings);

        var refused = await start.Should().ThrowAsync<InvalidOperationException>();
        refused.Which.Message.Should().Contain("RoomServer__Webhooks__Endpoints__2__Secret")
            .And.NotContain("Endpoints__1__", "nothing was configured under that number");
    }
}
