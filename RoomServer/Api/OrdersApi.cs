using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// The operator side of order hand-off (DESIGN.md §4, §8): a room's records and their delivery per
/// endpoint, the dead letters, and retrying them. API key only (a member token is <c>forbidden</c>); errors are §5 problems.
/// </summary>
public static class OrdersApi
{
    private const int DefaultPage = 100;
    private const int MaxPage = 1000;

    /// <summary>Rooms whose dead letters a retry-all puts back at once.</summary>
    private const int ParallelRoomRetries = 8;

    /// <summary>
    /// Pages of dead letters a retry-all reads at most (one round trip each): past this many letters it cannot
    /// retry, it stops and answers where it got to (<c>next</c>), so a call stays short however many there are.
    /// </summary>
    internal const int MaxScannedPages = 5;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/rooms/{roomId}/order", GetOrder).RequireAuthorization(AuthPolicies.ApiKey)
            .WithTags("Orders")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var deadLetters = app.MapGroup("/api/deadletters")
            .WithTags("Orders")
            .RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        deadLetters.MapGet("/", ListDeadLetters)
            .WithSummary("Dead letters after the id 'after' (default: from the oldest), oldest first, at most limit (default 100, at most 1000); next = the 'after' of the next page, or null")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        deadLetters.MapPost("/{id}/retry", RetryOne)
            .WithSummary("Retries one dead letter; invalid_argument when there is none, or its endpoint is no longer configured (it stays)")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        deadLetters.MapDelete("/{id}", DeleteOne)
            .WithSummary("Deletes one dead letter for good (e.g. of an endpoint removed for good); invalid_argument when there is none (already retried or deleted)")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        deadLetters.MapPost("/retry", RetryAll)
            .WithSummary("Retries the oldest dead letters after the id 'after' (default: from the oldest) whose endpoint is still configured, at most 1000 a call, reading past at most 5000; more = there may be more: call again with after = next; skipped = the letters passed over (endpoint no longer configured)")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    /// <summary>
    /// Every configured endpoint per record, then any endpoint no longer configured. A configured endpoint without a status
    /// is pending while the record is still to be settled, and not_sent once it was settled without it (configured since).
    /// A record kept only as put-back copies (its own entry trimmed, and with it the statuses no copy shares) lists the
    /// endpoints it has a status or a copy for: not_sent on the others would say it was never sent there.
    /// </summary>
    private static async Task<Ok<OrderStatusResponse>> GetOrder(
        string roomId, IOrderOutbox outbox, IRoomStore store, IOptions<RoomServerOptions> options, CancellationToken cancellationToken)
    {
        RoomIds.RequireRoomId(roomId);
        var records = await outbox.RecordsAsync(roomId);
        if (records.Count == 0 && !await store.ExistsAsync(roomId, cancellationToken))
        {
            throw RoomException.NotFound(roomId);
        }

        var configured = options.Value.Webhooks.Endpoints.Select(e => e.Url).ToList();
        return TypedResults.Ok(new OrderStatusResponse(records.Select(r => new OrderRecordStatus(
            r.OrderId,
            r.Type,
            r.Version,
            r.At,
            Listed(configured, r)
                .Select(endpoint => r.Deliveries.TryGetValue(endpoint, out var d)
                    ? new EndpointDeliveryStatus(endpoint, d.Status, d.Attempts, d.LastError, NextAttemptAt(d))
                    : new EndpointDeliveryStatus(endpoint, r.AwaitsConfiguredEndpoints ? DeliveryStatuses.Pending : DeliveryStatuses.NotSent, 0, null, null))
                .ToList())).ToList()));
    }

    /// <summary>The endpoints a record lists, in order: the configured ones (<see cref="GetOrder"/>), then the others.</summary>
    private static IEnumerable<string> Listed(List<string> configured, StoredOrderRecord record)
    {
        var known = record.Deliveries.Keys.Concat(record.OnlyCopiesTo ?? []).ToHashSet(StringComparer.Ordinal);
        var first = record.OnlyCopiesTo is null ? configured : [.. configured.Where(known.Contains)];
        return first.Concat(known.Except(first, StringComparer.Ordinal).Order(StringComparer.Ordinal));
    }

    /// <summary>The time the worker stored with a failed attempt (DESIGN.md §8): shown only while it still applies.</summary>
    private static string? NextAttemptAt(EndpointDelivery delivery) =>
        delivery is { Status: DeliveryStatuses.Pending, NextAttemptAt: { } due } ? Clock.Stamp(due) : null;

    // A limit that is not an integer fails binding: invalid_argument too (RoomExceptionHandler).
    private static async Task<Ok<DeadLettersResponse>> ListDeadLetters(string? after, int? limit, IOrderOutbox outbox)
    {
        var from = AfterId(after);
        var count = limit ?? DefaultPage;
        if (count is < 1 or > MaxPage)
        {
            throw RoomException.Invalid($"limit must be from 1 to {MaxPage}");
        }

        // One more than asked: whether it exists says if there is a next page.
        var letters = await outbox.DeadLettersAsync(from, count + 1);
        var page = letters.Take(count)
            .Select(d => new DeadLetterItem(d.Id, d.OrderId, d.RoomId, d.Type, d.Endpoint, d.Attempts, d.LastError, d.DeadAt))
            .ToList();
        return TypedResults.Ok(new DeadLettersResponse(page, letters.Count > count ? page[^1].Id : null));
    }

    private static string? AfterId(string? after) => after is null
        ? null
        : DeadLetterIds.Canonical(after) ?? throw RoomException.Invalid("after must be a dead letter id, such as 1732890000000-0 (a page's next)");

    private static async Task<Accepted<RetryResponse>> RetryOne(
        string id, IOrderOutbox outbox, OrderOutboxSignal signal, IOptions<RoomServerOptions> options)
    {
        var canonical = DeadLetterIds.Canonical(id)
            ?? throw RoomException.Invalid("a dead letter id looks like 1732890000000-0 (GET /api/deadletters lists them)");

        // By its id alone: the dead-letter stream can be long, and listing it is not needed to retry one.
        var letter = await outbox.FindDeadLetterAsync(canonical) ?? throw NoSuchDeadLetter(canonical);

        // Put back, it would die again at once (no secret to sign with), as a new letter at the end: refused, and kept.
        if (!options.Value.Webhooks.IsConfigured(letter.Endpoint))
        {
            throw RoomException.Invalid(
                $"dead letter '{canonical}' is for the endpoint {letter.Endpoint}, which is no longer configured: it stays a dead letter, and can be retried once that endpoint is configured again");
        }

        var roomId = await outbox.RetryAsync(canonical) ?? throw NoSuchDeadLetter(canonical);
        signal.Notify(roomId);
        return TypedResults.Accepted((string?)null, new RetryResponse([canonical], false, null, 0));
    }

    private static RoomException NoSuchDeadLetter(string id) => RoomException.Invalid($"there is no dead letter '{id}' (already retried or deleted?)");

    /// <summary>
    /// Whatever its endpoint: this is how an operator clears the letters of an endpoint removed for good, which
    /// retry passes over. Racing a retry of the same letter, one of the two has its effect and the other answers
    /// that there is no such letter (the outbox decides, atomically).
    /// </summary>
    private static async Task<NoContent> DeleteOne(string id, IOrderOutbox outbox, ILoggerFactory loggers)
    {
        var canonical = DeadLetterIds.Canonical(id)
            ?? throw RoomException.Invalid("a dead letter id looks like 1732890000000-0 (GET /api/deadletters lists them)");
        if (!await outbox.DeleteDeadLetterAsync(canonical))
        {
            throw NoSuchDeadLetter(canonical);
        }

        OrdersLog.DeadLetterDeleted(loggers.CreateLogger(typeof(OrdersApi)), canonical);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The oldest dead letters that can be retried, at most <see cref="MaxPage"/> a call: each costs a few Redis
    /// round trips, and a call over the whole stream outlived the proxy's timeout while it went on.
    /// <c>more</c> says there are more that can be retried (call again). A retried letter whose endpoint still
    /// refuses dies again later, behind the others. Letters for an endpoint no longer configured are passed over
    /// and stay (listed): put back, they would die again at once, at the end of the stream, and an operator
    /// calling until <c>more</c> is false would never be done. A call reads past at most
    /// <see cref="MaxScannedPages"/> pages of them; <c>next</c> is where the next call goes on (<c>after</c>).
    /// </summary>
    private static async Task<Accepted<RetryResponse>> RetryAll(
        string? after, IOrderOutbox outbox, OrderOutboxSignal signal, IOptions<RoomServerOptions> options, CancellationToken cancellationToken)
    {
        var (page, next, skipped) = await OldestRetryableAsync(outbox, options.Value.Webhooks, AfterId(after), cancellationToken);
        var retried = new bool[page.Count];

        // Rooms side by side (a letter is several Redis round trips: a page one after another took seconds),
        // each room's letters in order, so a room's records go back into its outbox in the order they died.
        // The operator giving up stops it (every letter retried so far stays retried).
        var rooms = page.Select((letter, index) => (letter, index)).GroupBy(l => l.letter.RoomId, StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            rooms,
            new ParallelOptions { MaxDegreeOfParallelism = ParallelRoomRetries, CancellationToken = cancellationToken },
            async (room, token) =>
            {
                foreach (var (letter, index) in room)
                {
                    token.ThrowIfCancellationRequested();
                    if (await outbox.RetryAsync(letter.Id) is not null)
                    {
                        retried[index] = true;
                        signal.Notify(letter.RoomId);
                    }
                }
            });

        return TypedResults.Accepted((string?)null, new RetryResponse([.. page.Where((_, i) => retried[i]).Select(l => l.Id)], next is not null, next, skipped));
    }

    /// <summary>
    /// The oldest <see cref="MaxPage"/> letters after <paramref name="after"/> whose endpoint is configured, reading on
    /// past those whose endpoint is not, for at most <see cref="MaxScannedPages"/> pages. <c>Next</c>: where the next
    /// call goes on when there may be more — after the last letter taken when another retryable one follows it, after
    /// the last one read when the pages ran out — or null when the stream is read to its end. <c>Skipped</c>: the
    /// letters passed over before <c>Next</c> (those after it are read again by the next call, and counted there), so
    /// the calls an operator makes until <c>more</c> is false add up to each letter once.
    /// </summary>
    private static async Task<(List<DeadLetter> Retryable, string? Next, int Skipped)> OldestRetryableAsync(
        IOrderOutbox outbox, WebhookOptions webhooks, string? after, CancellationToken cancellationToken)
    {
        var retryable = new List<DeadLetter>(MaxPage);
        var skipped = 0;
        var skippedSinceTaken = 0;
        for (var pages = 0; pages < MaxScannedPages; pages++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await outbox.DeadLettersAsync(after, MaxPage);
            foreach (var letter in page)
            {
                if (!webhooks.IsConfigured(letter.Endpoint))
                {
                    skippedSinceTaken++;
                    continue;
                }

                if (retryable.Count == MaxPage)
                {
                    return (retryable, retryable[^1].Id, skipped);
                }

                retryable.Add(letter);
                skipped += skippedSinceTaken;
                skippedSinceTaken = 0;
            }

            if (page.Count < MaxPage)
            {
                return (retryable, null, skipped + skippedSinceTaken);
            }

            after = page[^1].Id;
        }

        return (retryable, after, skipped + skippedSinceTaken);
    }
}
