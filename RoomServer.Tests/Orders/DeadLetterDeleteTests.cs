using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// <c>DELETE /api/deadletters/{id}</c> (DESIGN.md §8): how an operator clears a dead letter for good — one of an
/// endpoint removed for good, which no retry can take. It removes that letter alone; a letter it removed is gone for
/// a second delete and for a retry alike (<c>invalid_argument</c>, as retry answers an unknown id); and a delete and
/// a retry of one letter at once have exactly one effect between them. Letters are written straight into the
/// server's outbox, each test in a room of its own.
/// </summary>
public abstract class DeadLetterDeleteTests(ContractServer server, WebhookReceiver receiver)
{
    private const string Removed = "http://127.0.0.1:9/removed";

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ADeleteRemovesThatLetterAloneAndASecondDeleteOrARetryOfItFindsNone()
    {
        var room = await server.CreateRoomAsync();
        var letters = await WriteAsync(room, receiver.Url, 3);

        using (var deleted = await DeleteAsync(letters[1].Id))
        {
            deleted.StatusCode.Should().Be(HttpStatusCode.NoContent, await deleted.Content.ReadAsStringAsync());
            (await deleted.Content.ReadAsStringAsync()).Should().BeEmpty();
        }

        (await LettersOfAsync(room)).Should().Equal([letters[0], letters[2]], "the other letters stay, unchanged");
        using (var again = await DeleteAsync(letters[1].Id))
        {
            await ShouldBeNoSuchLetterAsync(again, letters[1].Id);
        }

        using (var retry = await RetryAsync(letters[1].Id))
        {
            await ShouldBeNoSuchLetterAsync(retry, letters[1].Id);
        }

        (await OrderIdsInOutboxAsync(room)).Should().BeEmpty("nothing was put back into the room's outbox");
        (await LettersOfAsync(room)).Should().Equal([letters[0], letters[2]]);
    }

    [Theory]
    [InlineData("not-an-id")]
    [InlineData("1-0-0")]
    [InlineData("99999999")]
    [InlineData("99999999999999999999-0")]
    [InlineData("18446744073709551615-18446744073709551615")]
    public async Task DeletingAMalformedOrUnknownIdIsInvalidArgumentAndDeletesNothing(string id)
    {
        var room = await server.CreateRoomAsync();
        var letters = await WriteAsync(room, receiver.Url, 1);

        using var response = await DeleteAsync(id);

        await ShouldBeProblemAsync(response, HttpStatusCode.BadRequest, "invalid_argument");
        (await LettersOfAsync(room)).Should().Equal(letters);
    }

    [Fact]
    public async Task DeletingWithoutTheApiKeyIsUnauthorizedAndDeletesNothing()
    {
        var room = await server.CreateRoomAsync();
        var letters = await WriteAsync(room, receiver.Url, 1);

        using var response = await server.Anonymous.DeleteAsync(new Uri($"/api/deadletters/{letters[0].Id}", UriKind.Relative));

        await ShouldBeProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        (await LettersOfAsync(room)).Should().Equal(letters);
    }

    [Fact]
    public async Task ALetterOfARemovedEndpointThatNoRetryTakesIsClearedByADelete()
    {
        var room = await server.CreateRoomAsync();
        var letters = await WriteAsync(room, Removed, 1);

        using (var retry = await RetryAsync(letters[0].Id))
        {
            await ShouldBeProblemAsync(retry, HttpStatusCode.BadRequest, "invalid_argument");
        }

        using var deleted = await DeleteAsync(letters[0].Id);

        deleted.StatusCode.Should().Be(HttpStatusCode.NoContent, await deleted.Content.ReadAsStringAsync());
        (await LettersOfAsync(room)).Should().BeEmpty();
    }

    /// <summary>
    /// Twenty letters, each deleted and retried at the same moment: per letter exactly one call wins (204 or 202) and
    /// the other is answered as if the letter were gone; no letter stays listed; the room's outbox holds exactly the
    /// letters whose retry won, and the receiver gets each of those once and none of the deleted ones — checked after
    /// a later letter of the same room is delivered (a room's records go out in order).
    /// </summary>
    [Fact]
    public async Task ADeleteAndARetryOfOneLetterAtOnceHaveExactlyOneEffect()
    {
        const int Letters = 20;
        var room = await server.CreateRoomAsync();
        var letters = await WriteAsync(room, receiver.Url, Letters);

        var raced = await Task.WhenAll(letters.Select(async letter =>
        {
            var delete = DeleteAsync(letter.Id);
            var retry = RetryAsync(letter.Id);
            await Task.WhenAll(delete, retry);
            return (Letter: letter, Delete: await delete, Retry: await retry);
        }));

        var retried = new List<string>();
        var deleted = new List<string>();
        foreach (var (letter, delete, retry) in raced)
        {
            using (delete)
            using (retry)
            {
                var deleteWon = delete.StatusCode == HttpStatusCode.NoContent;
                var retryWon = retry.StatusCode == HttpStatusCode.Accepted;
                (deleteWon ^ retryWon).Should().BeTrue(
                    $"{letter.Id}: exactly one of the delete ({delete.StatusCode}) and the retry ({retry.StatusCode}) has its effect");
                await ShouldBeNoSuchLetterAsync(deleteWon ? retry : delete, letter.Id);
                (deleteWon ? deleted : retried).Add(letter.OrderId);
            }
        }

        (await LettersOfAsync(room)).Should().BeEmpty("every letter was either put back or deleted");
        (await OrderIdsInOutboxAsync(room)).Should().BeEquivalentTo(retried, "exactly the letters whose retry won went back into the outbox");

        var sentinel = (await WriteAsync(room, receiver.Url, 1, firstVersion: Letters + 1)).Single();
        using (var last = await RetryAsync(sentinel.Id))
        {
            last.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await Poll.UntilAsync(
            () => receiver.All.Any(r => r.OrderId == sentinel.OrderId && r.Answer == ReceiverAnswer.Ok),
            Delivery,
            () => $"the later letter is delivered; received: {receiver.Describe()}");
        var received = receiver.All.Where(r => r.OrderId.StartsWith(room.Id + ":", StringComparison.Ordinal) && r.OrderId != sentinel.OrderId)
            .Select(r => r.OrderId).ToList();
        received.Should().BeEquivalentTo(retried, $"each retried letter is delivered once, no deleted one ({deleted.Count} deleted)");
    }

    private async Task<List<ListedLetter>> WriteAsync(TestRoom room, string endpoint, int count, int firstVersion = 1)
    {
        await DeadLetterApi.WriteAsync(server, room, endpoint, count, receiver.Url, 0, firstVersion);
        return await LettersOfAsync(room);
    }

    private async Task<List<ListedLetter>> LettersOfAsync(TestRoom room) =>
        [.. (await DeadLetterApi.AllAsync(server.Api)).Where(l => l.OrderId.StartsWith(room.Id + ":", StringComparison.Ordinal))];

    private async Task<List<string>> OrderIdsInOutboxAsync(TestRoom room)
    {
        var order = await server.Api.GetFromJsonAsync<JsonElement>($"/api/rooms/{room.Id}/order");
        return [.. order.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("orderId").GetString()!)];
    }

    private Task<HttpResponseMessage> DeleteAsync(string id) =>
        server.Api.DeleteAsync(new Uri($"/api/deadletters/{id}", UriKind.Relative));

    private Task<HttpResponseMessage> RetryAsync(string id) =>
        server.Api.PostAsync(new Uri($"/api/deadletters/{id}/retry", UriKind.Relative), null);

    private static async Task ShouldBeNoSuchLetterAsync(HttpResponseMessage response, string id)
    {
        var problem = await ShouldBeProblemAsync(response, HttpStatusCode.BadRequest, "invalid_argument");
        problem.GetProperty("detail").GetString().Should().Contain($"no dead letter '{id}'");
    }

    private static async Task<JsonElement> ShouldBeProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        response.StatusCode.Should().Be(status, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be(code);
        return problem;
    }
}

[Trait("Suite", "Orders")]
public sealed class EmbeddedDeadLetterDeleteTests(EmbeddedWebhookContractServer server)
    : DeadLetterDeleteTests(server, server.Receiver), IClassFixture<EmbeddedWebhookContractServer>;

[Trait("Suite", "Orders")]
public sealed class RedisDeadLetterDeleteTests(RedisWebhookContractServer server)
    : DeadLetterDeleteTests(server, server.Receiver), IClassFixture<RedisWebhookContractServer>;
