using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Orders;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// A webhook endpoint whose URL carries a credential in its user-info, its path (as Slack's and Discord's do) and its
/// query (DESIGN.md §9: never a webhook secret in the logs): a replica logging at Debug that retries it and
/// dead-letters the order names the endpoint in its 6002 and 6003 lines by the redacted URL only, and its whole output
/// holds no credential — also with the console provider's own level at Trace, which outranks any category rule held
/// in appsettings.json (the framework's per-request HttpClient lines keep the path; the webhook client has none).
/// </summary>
public sealed class WebhookUrlSecretsInLogsTests
{
    private const string QueryToken = "s3cr3t-query-token-123";
    private const string UserInfoPassword = "s3cr3t-userinfo-pw-456";
    private const string PathSecret = "s3cr3t-path-789";

    [Fact]
    public async Task ARefusedEndpointIsRetriedAndDeadLetteredWithItsUrlRedactedInTheLogs()
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: true, startReceiver: false, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__0__Url"] = $"http://hook-user:{UserInfoPassword}@127.0.0.1:1/hook/{PathSecret}?token={QueryToken}",
            ["RoomServer__Webhooks__MaxAttempts"] = "2",
            ["RoomServer__Webhooks__RetryBaseDelayMilliseconds"] = "50",
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "100",
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__LogLevel__Microsoft"] = "Debug",
            ["Logging__LogLevel__System.Net.Http"] = "Trace",
            ["Logging__LogLevel__Polly"] = "Debug",
            ["Logging__Console__LogLevel__Default"] = "Trace",
        });
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        await stage.SetStateAsync(replica, roomId, "locked");
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Single().GetProperty("status").GetString() == "dead", TimeSpan.FromSeconds(20));
        await replica.StopAsync();
        var output = replica.Output;

        output.Should().NotStartWith(OutputLog.DroppedMarker, "the whole output must be checked");
        output.Should().NotContain(QueryToken, "a credential in the endpoint's query string must never be logged");
        output.Should().NotContain(UserInfoPassword, "a credential in the endpoint's user-info must never be logged");
        output.Should().NotContain(PathSecret, "nor one in its path");
        output.Should().NotContain(OrderHandoffStage.Secret, "nor the endpoint's signing secret");
        output.Should().MatchRegex(@"\[6002\]\s+Order \S+ to http://127\.0\.0\.1:1/hook/…\?\*: attempt 1 failed", "a retry names the endpoint by its redacted URL");
        output.Should().MatchRegex(@"\[6003\]\s+Order \S+ to http://127\.0\.0\.1:1/hook/…\?\* dead-lettered after 2 attempt", "the dead letter is logged, naming the endpoint by its redacted URL");
    }
}
