using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Dead letters for an endpoint no longer configured (DESIGN.md §8): put back, they died again at once (no secret
/// to sign with) as new letters at the end of the stream, so "retry all" answered <c>more</c> for ever. A retry of
/// one is <c>invalid_argument</c> and leaves it; "retry all" passes over them — past a whole page of them, to the
/// letters it can retry — and they stay listed. The letters are written straight into the server's outbox, more
/// than a page of them in front of those for the server's one endpoint.
/// </summary>
public abstract class RemovedEndpointDeadLetterTests(ContractServer server, WebhookReceiver receiver)
{
    private const string Removed = "http://127.0.0.1:9/removed";
    private const int RemovedLetters = 1_005;
    private const int RetryableLetters = 3;

    [Fact]
    public async Task LettersForARemovedEndpointAreRefusedOneByOneAndPassedOverByRetryAllWhichTerminates()
    {
        var room = await server.CreateRoomAsync();
        await DeadLetterApi.WriteAsync(server, room, Removed, RemovedLetters, receiver.Url, RetryableLetters);

        var before = await AllLettersAsync();
        before.Should().HaveCount(RemovedLetters + RetryableLetters);
        var removed = before.Take(RemovedLetters).ToList();
        var retryable = before.Skip(RemovedLetters).ToList();

        using (var one = await server.Api.PostAsync(new Uri($"/api/deadletters/{removed[0].Id}/retry", UriKind.Relative), null))
        {
            one.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            var problem = await one.Content.ReadFromJsonAsync<JsonElement>();
            problem.GetProperty("code").GetString().Should().Be("invalid_argument");
            problem.GetProperty("detail").GetString().Should().Contain("no longer configured").And.Contain(Removed);
        }

        var (retried, more, _, skipped) = await RetryAllAsync();
        retried.Should().Equal(retryable.Select(l => l.Id), "the letters behind a page of unretryable ones are reached");
        more.Should().BeFalse("no other letter can be retried");
        skipped.Should().Be(RemovedLetters, "it says how many it passed over");
        var (again, moreAgain, _, skippedAgain) = await RetryAllAsync();
        again.Should().BeEmpty("the letters left are those of the removed endpoint");
        moreAgain.Should().BeFalse("an operator calling until more is false is done");
        skippedAgain.Should().Be(RemovedLetters, "they are still there, and passed over again");

        (await AllLettersAsync()).Should().Equal(removed, "the letters of the removed endpoint stay, listed, unchanged");
        await Poll.UntilAsync(
            () => retryable.All(l => receiver.All.Any(r => r.OrderId == l.OrderId && r.Answer == ReceiverAnswer.Ok)),
            TimeSpan.FromSeconds(30),
            () => $"the retried letters are delivered; received: {receiver.Describe()}");
    }

    private Task<List<ListedLetter>> AllLettersAsync() => DeadLetterApi.AllAsync(server.Api);

    private Task<RetryAllAnswer> RetryAllAsync() => DeadLetterApi.RetryAllAsync(server.Api);

}

[Trait("Suite", "Orders")]
public sealed class EmbeddedRemovedEndpointDeadLetterTests(EmbeddedWebhookContractServer server)
    : RemovedEndpointDeadLetterTests(server, server.Receiver), IClassFixture<EmbeddedWebhookContractServer>;

[Trait("Suite", "Orders")]
public sealed class RedisRemovedEndpointDeadLetterTests(RedisWebhookContractServer server)
    : RemovedEndpointDeadLetterTests(server, server.Receiver), IClassFixture<RedisWebhookContractServer>;
