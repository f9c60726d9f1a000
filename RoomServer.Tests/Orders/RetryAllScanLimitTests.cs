using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// "Retry all" (DESIGN.md §8) reads past at most <see cref="OrdersApi.MaxScannedPages"/> pages of letters it cannot
/// retry (an endpoint no longer configured) a call, so a call stays short however many there are, and answers where
/// it stopped (<c>next</c>); the next call, given it as <c>after</c>, goes on from there. Its own server: the
/// letters it leaves would be in front of any other test's.
/// </summary>
public abstract class RetryAllScanLimitTests(ContractServer server, WebhookReceiver receiver)
{
    private const string Removed = "http://127.0.0.1:9/removed";
    private const int RetryableLetters = 3;

    [Fact]
    public async Task RetryAllReadsPastAtMostItsPagesOfUnretryableLettersAndGoesOnFromWhereItStopped()
    {
        // More letters it cannot retry than one call reads: the call stops, retries nothing, and says where it got to.
        var unretryable = (OrdersApi.MaxScannedPages * 1_000) + 5;
        var room = await server.CreateRoomAsync();
        await DeadLetterApi.WriteAsync(server, room, Removed, unretryable, receiver.Url, RetryableLetters);

        var letters = await AllLettersAsync();
        var retryable = letters.Skip(unretryable).ToList();

        var first = await DeadLetterApi.RetryAllAsync(server.Api);
        first.Retried.Should().BeEmpty("the call read its pages without reaching a letter it can retry");
        first.More.Should().BeTrue();
        first.Next.Should().Be(letters[(OrdersApi.MaxScannedPages * 1_000) - 1].Id, "it goes on after the last letter it read");
        first.Skipped.Should().Be(OrdersApi.MaxScannedPages * 1_000, "every letter it read, it passed over");

        var second = await DeadLetterApi.RetryAllAsync(server.Api, first.Next);
        second.Retried.Should().Equal(retryable.Select(l => l.Id), "the next call goes on from there and reaches them");
        second.More.Should().BeFalse();
        second.Next.Should().BeNull();
        second.Skipped.Should().Be(unretryable - (OrdersApi.MaxScannedPages * 1_000), "the rest, each letter counted by one call only");

        using var bad = await server.Api.PostAsync(new Uri("/api/deadletters/retry?after=nope", UriKind.Relative), null);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest, "after must be a dead letter id");
        (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("invalid_argument");
    }

    private Task<List<ListedLetter>> AllLettersAsync() => DeadLetterApi.AllAsync(server.Api);

}

[Trait("Suite", "Orders")]
public sealed class EmbeddedRetryAllScanLimitTests(EmbeddedWebhookContractServer server)
    : RetryAllScanLimitTests(server, server.Receiver), IClassFixture<EmbeddedWebhookContractServer>;

[Trait("Suite", "Orders")]
public sealed class RedisRetryAllScanLimitTests(RedisWebhookContractServer server)
    : RetryAllScanLimitTests(server, server.Receiver), IClassFixture<RedisWebhookContractServer>;
