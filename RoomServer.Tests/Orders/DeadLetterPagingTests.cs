using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The dead-letter listing is paged (<c>GET /api/deadletters?after=&amp;limit=</c>, oldest first, <c>next</c>
/// = the <c>after</c> of the next page), and retrying them all walks the stream a page at a time:
/// with thousands of letters, each holding its body, reading the whole stream per call took seconds
/// and answered 503. The letters are written straight into the server's outbox (the worker writes
/// them the same way), more than one page of retry-all, for the server's one webhook endpoint (a retry
/// of a letter whose endpoint is no longer configured is refused: <see cref="RemovedEndpointDeadLetterTests"/>).
/// </summary>
public abstract class DeadLetterPagingTests(ContractServer server, string endpoint)
{
    private const int Letters = 1_100;

    [Fact]
    public async Task DeadLettersAreListedAPageAtATimeAndRetryAllRetriesEveryPage()
    {
        var room = await server.CreateRoomAsync();
        var outbox = server.Services.GetRequiredService<IOrderOutbox>();
        for (var version = 1; version <= Letters; version++)
        {
            await outbox.DeadLetterAsync(new DeadLetter(
                "", $"{room.Id}:{version}", room.Id, OrderRecordTypes.Submitted, version, "2026-11-30T12:00:00Z",
                endpoint, 8, "connection refused", "2026-11-30T12:05:00Z", "{}"));
        }

        // The default page, then the whole stream in pages of 500: every letter once, oldest first.
        var first = await PageAsync("/api/deadletters");
        first.Items.Should().HaveCount(100);
        first.Next.Should().Be(first.Items[^1].Id);

        var seen = new List<Item>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await PageAsync("/api/deadletters?limit=500" + (after is null ? "" : "&after=" + after));
            seen.AddRange(page.Items);
            after = page.Next;
            pages++;
        }
        while (after is not null && pages < 10);

        pages.Should().Be(3, "1 100 letters in pages of 500");
        seen.Select(i => i.OrderId).Should().Equal(Enumerable.Range(1, Letters).Select(v => $"{room.Id}:{v}"), "oldest first, none twice, none left out");
        first.Items.Select(i => i.Id).Should().Equal(seen.Take(100).Select(i => i.Id));

        // Past the last letter: an empty page, no next.
        var past = await PageAsync("/api/deadletters?after=" + seen[^1].Id);
        past.Items.Should().BeEmpty();
        past.Next.Should().BeNull();

        // Retry-all takes the oldest page (1 000) a call, and says when there are more.
        var (firstRetried, firstMore) = await RetryAllAsync();
        firstRetried.Should().Equal(seen.Take(1_000).Select(i => i.Id));
        firstMore.Should().BeTrue();

        // Any of them that died again meanwhile would be a new letter, behind the 100 still waiting, which the
        // next call takes first.
        var (secondRetried, secondMore) = await RetryAllAsync();
        secondRetried.Take(100).Should().Equal(seen.Skip(1_000).Select(i => i.Id));
        secondMore.Should().BeFalse("the receiver takes every retried letter: none died again");

        var left = (await PageAsync("/api/deadletters?limit=1000")).Items.Select(i => i.Id);
        left.Should().NotIntersectWith(seen.Select(i => i.Id), "every original letter was retried");
    }

    [Theory]
    [InlineData(DeadLetterIds.Last)]
    [InlineData("0")]
    [InlineData("0-0")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000001-0")]
    public async Task AnyValidIdIsAPlaceToStartAPage(string after)
    {
        // A page (200), never a store error: leading zeros, a bare number, the last id there can be.
        var page = await PageAsync("/api/deadletters?after=" + after);

        if (after == DeadLetterIds.Last)
        {
            page.Items.Should().BeEmpty("nothing comes after the last id");
            page.Next.Should().BeNull();
        }
    }

    private async Task<(IReadOnlyList<string> Retried, bool More)> RetryAllAsync()
    {
        // A thousand letters of one room go back one after another (their order kept): seconds, more on a busy CI
        // box than the shared client's 15 s allow. What is checked here is what was retried, not how fast.
        using var patient = new HttpClient { BaseAddress = server.Api.BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
        patient.DefaultRequestHeaders.Add("X-Api-Key", server.Api.DefaultRequestHeaders.GetValues("X-Api-Key").Single());
        var answer = await DeadLetterApi.RetryAllAsync(patient);
        return (answer.Retried, answer.More);
    }

    [Theory]
    [InlineData("limit=0", "limit must be from 1 to 1000")]
    [InlineData("limit=1001", "limit must be from 1 to 1000")]
    [InlineData("limit=ten", "'limit'")]
    [InlineData("after=not-an-id", "after must be a dead letter id")]
    [InlineData("after=1-2-3", "after must be a dead letter id")]
    [InlineData("after=99999999999999999999-0", "after must be a dead letter id")]
    public async Task ABadPageIsInvalidArgument(string query, string message)
    {
        using var response = await server.Api.GetAsync("/api/deadletters?" + query);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be("invalid_argument");
        problem.GetProperty("detail").GetString().Should().Contain(message);
    }

    private async Task<Page> PageAsync(string path)
    {
        using var response = await server.Api.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var items = body.GetProperty("items").EnumerateArray()
            .Select(i => new Item(i.GetProperty("id").GetString()!, i.GetProperty("orderId").GetString()!))
            .ToList();
        var next = body.GetProperty("next");
        return new Page(items, next.ValueKind == JsonValueKind.Null ? null : next.GetString());
    }

    private sealed record Item(string Id, string OrderId);

    private sealed record Page(IReadOnlyList<Item> Items, string? Next);
}

[Trait("Suite", "Orders")]
public sealed class EmbeddedDeadLetterPagingTests(EmbeddedWebhookContractServer server)
    : DeadLetterPagingTests(server, server.Receiver.Url), IClassFixture<EmbeddedWebhookContractServer>;

[Trait("Suite", "Orders")]
public sealed class RedisDeadLetterPagingTests(RedisWebhookContractServer server)
    : DeadLetterPagingTests(server, server.Receiver.Url), IClassFixture<RedisWebhookContractServer>;
