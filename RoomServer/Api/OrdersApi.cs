using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// The operator side of order hand-off (DESIGN.md §4, §8): a room's records and their delivery per
/// endpoint, the dead letters, and retrying them. API key only; errors are §5 problems.
/// </summary>
public static partial class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/rooms/{roomId}/order", GetOrder).RequireAuthorization(AuthPolicies.ApiKey)
            .WithTags("Orders")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var deadLetters = app.MapGroup("/api/deadletters")
            .WithTags("Orders")
            .RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        deadLetters.MapGet("/", ListDeadLetters);
        deadLetters.MapPost("/{id}/retry", RetryOne).ProducesProblem(StatusCodes.Status400BadRequest);
        deadLetters.MapPost("/retry", RetryAll);
        return app;
    }

    /// <summary>Every configured endpoint per record (pending until it has a status), then any endpoint no longer configured.</summary>
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
            configured.Concat(r.Deliveries.Keys.Except(configured, StringComparer.Ordinal).Order(StringComparer.Ordinal))
                .Select(endpoint => r.Deliveries.TryGetValue(endpoint, out var d)
                    ? new EndpointDeliveryStatus(endpoint, d.Status, d.Attempts, d.LastError)
                    : new EndpointDeliveryStatus(endpoint, DeliveryStatuses.Pending, 0, null))
                .ToList())).ToList()));
    }

    private static async Task<Ok<DeadLettersResponse>> ListDeadLetters(IOrderOutbox outbox) =>
        TypedResults.Ok(new DeadLettersResponse((await outbox.DeadLettersAsync())
            .Select(d => new DeadLetterItem(d.Id, d.OrderId, d.RoomId, d.Type, d.Endpoint, d.Attempts, d.LastError, d.DeadAt))
            .ToList()));

    private static async Task<Accepted<RetryResponse>> RetryOne(string id, IOrderOutbox outbox, OrderOutboxSignal signal)
    {
        if (!DeadLetterId().IsMatch(id))
        {
            throw RoomException.Invalid("a dead letter id looks like 1732890000000-0 (GET /api/deadletters lists them)");
        }

        // By its id alone: the dead-letter stream can be long, and listing it is not needed to retry one.
        var roomId = await outbox.RetryAsync(id) ?? throw RoomException.Invalid($"there is no dead letter '{id}' (already retried?)");
        signal.Notify(roomId);
        return TypedResults.Accepted((string?)null, new RetryResponse([id]));
    }

    private static async Task<Accepted<RetryResponse>> RetryAll(IOrderOutbox outbox, OrderOutboxSignal signal)
    {
        var retried = new List<string>();
        foreach (var letter in await outbox.DeadLettersAsync())
        {
            if (await outbox.RetryAsync(letter.Id) is not null)
            {
                retried.Add(letter.Id);
                signal.Notify(letter.RoomId);
            }
        }

        return TypedResults.Accepted((string?)null, new RetryResponse(retried));
    }

    /// <summary>A Redis stream id (ms-seq), or embedded mode's counter.</summary>
    [GeneratedRegex("^[0-9]{1,20}(-[0-9]{1,20})?$")]
    private static partial Regex DeadLetterId();
}
