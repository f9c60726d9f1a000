using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The operator view shows when a delivery's next attempt is due (DESIGN.md §8, <c>nextAttemptAt</c>): the time the
/// worker stores with each failed attempt — here the receiver's <c>Retry-After</c> — while the delivery waits, and
/// null once it is delivered. The receiver answers the first request 503 with <c>Retry-After</c>, then 200; one test
/// per server, since the receiver's answers count its requests.
/// </summary>
public abstract class NextAttemptAtTests(ContractServer server, WebhookReceiver receiver)
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(3);

    /// <summary>The stamp has milliseconds; the test's clock and the worker's are the same machine's.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task APendingDeliveryShowsTheReceiversRetryAfterAsItsNextAttemptAndNoneOnceDelivered()
    {
        receiver.RetryAfter = RetryAfter;
        receiver.Answers = n => n == 0 ? ReceiverAnswer.RetryLater : ReceiverAnswer.Ok;
        var room = await server.CreateRoomAsync();
        var before = DateTimeOffset.UtcNow;
        using (var locked = await server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "locked" }))
        {
            locked.EnsureSuccessStatusCode();
        }

        var waiting = await Poll.ForAsync(
            () => DeliveryAsync(room),
            d => d.GetProperty("attempts").GetInt32() == 1,
            Delivery,
            d => $"the failed attempt recorded; the delivery: {d}");
        var seen = DateTimeOffset.UtcNow;
        waiting.GetProperty("status").GetString().Should().Be("pending");
        waiting.GetProperty("lastError").GetString().Should().Contain("503");
        var stamp = waiting.GetProperty("nextAttemptAt").GetString();
        stamp.Should().MatchRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", "ISO-8601 UTC, as every stamp");
        var due = DateTimeOffset.Parse(stamp!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        due.Should().BeOnOrAfter(before + RetryAfter - Slack, "the receiver asked for that wait after the lock").And
            .BeOnOrBefore(seen + RetryAfter + Slack, "and it was asked before the failed attempt showed");

        var delivered = await Poll.ForAsync(
            () => DeliveryAsync(room),
            d => d.GetProperty("status").GetString() == "delivered",
            Delivery,
            d => $"delivered; the delivery: {d}; received: {receiver.Describe()}");
        delivered.GetProperty("nextAttemptAt").ValueKind.Should().Be(JsonValueKind.Null, "nothing is scheduled once delivered");
        receiver.All.Select(r => r.Answer).Should().Equal(ReceiverAnswer.RetryLater, ReceiverAnswer.Ok);
    }

    private async Task<JsonElement> DeliveryAsync(TestRoom room)
    {
        var order = await server.Api.GetFromJsonAsync<JsonElement>($"/api/rooms/{room.Id}/order");
        var records = order.GetProperty("records");
        return records.GetArrayLength() == 0
            ? JsonDocument.Parse("""{"attempts":0,"status":"none"}""").RootElement
            : records[0].GetProperty("deliveries").EnumerateArray().Single(d => d.GetProperty("endpoint").GetString() == receiver.Url);
    }
}

[Trait("Suite", "Orders")]
public sealed class EmbeddedNextAttemptAtTests(EmbeddedWebhookContractServer server)
    : NextAttemptAtTests(server, server.Receiver), IClassFixture<EmbeddedWebhookContractServer>;

[Trait("Suite", "Orders")]
public sealed class RedisNextAttemptAtTests(RedisWebhookContractServer server)
    : NextAttemptAtTests(server, server.Receiver), IClassFixture<RedisWebhookContractServer>;
