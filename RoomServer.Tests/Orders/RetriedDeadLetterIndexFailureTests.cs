using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A dead letter's retry has taken effect once the letter is back in its room's outbox and gone from the list; indexing
/// the room for the workers after that (<c>ZADD rs:orders:rooms</c>) is best effort (DESIGN.md §8). A failure there must
/// not answer the operator 503 — repeating the retry would say there is no such letter, and a retry-all would lose the
/// list of letters it put back — and the record is delivered all the same: by the retrying replica's own worker, woken by
/// the retry, or by any replica's sweep. The failure is real Redis's: the index key is made a string, so that <c>ZADD</c> alone
/// fails (WRONGTYPE, which the store reports as it reports a timeout: <c>unavailable</c>); the put-back and the letter's
/// removal touch other keys.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class RetriedDeadLetterIndexFailureTests(RedisWebhookContractServer server) : IClassFixture<RedisWebhookContractServer>
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ARetryWhoseRoomCannotBeIndexedStandsAndTheSweepDeliversIt()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        await receiver.StartAsync();
        var options = WebhooksTo(receiver, pollMilliseconds: 50, sweepSeconds: 1);
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "d1", options);
        var logger = new FakeLogger<RedisOrderOutbox>();
        var outbox = new RedisOrderOutbox(standalone.Connection, Options.Create(options), new WebhookMetrics(standalone.MeterFactory), TimeProvider.System, new AlwaysMayClaim(), logger);
        var (dead, id) = await DeadLetterOfR1Async(outbox, receiver);

        // A worker that no retry wakes (another replica's): only the index, and so the sweep, can bring it the room.
        await using var provider = InProcessDeliveryWorker.Build(Options.Create(options), outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await BreakIndexAsync(redis);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            (await outbox.RetryAsync(id)).Should().Be("r1", "the letter was put back: the retry took effect");
            (await outbox.FindDeadLetterAsync(id)).Should().BeNull("and it left the list");
            logger.Collector.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 6016 && r.Message.Contains(id, StringComparison.Ordinal),
                "the operator learns why the room may wait for a sweep");

            await RepairIndexAsync(redis);
            var delivered = await receiver.NextDeliveredAsync(Delivery);
            (delivered.OrderId, delivered.Body).Should().Be((dead.OrderId, dead.Body));
            await Poll.UntilAsync(
                async () => (await outbox.RecordsAsync("r1")).Single().Deliveries[receiver.Url].Status == DeliveryStatuses.Delivered,
                Delivery,
                "the operator view says delivered");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task TheRetryingReplicasOwnWorkerDeliversItAtOnceThoughTheIndexCannotBeRead()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        await receiver.StartAsync();
        // Far apart, so that a delivery within a few seconds can only come from the wake-up.
        var options = WebhooksTo(receiver, pollMilliseconds: 30_000, sweepSeconds: 3600);
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "d1", options);
        var outbox = new RedisOrderOutbox(standalone.Connection, Options.Create(options), new WebhookMetrics(standalone.MeterFactory), TimeProvider.System, new AlwaysMayClaim(), new FakeLogger<RedisOrderOutbox>());
        var (dead, id) = await DeadLetterOfR1Async(outbox, receiver);

        await using var provider = InProcessDeliveryWorker.Build(Options.Create(options), outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        var log = provider.GetFakeLogCollector();
        await BreakIndexAsync(redis);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            // The worker's first poll fails on the index; from then on it waits out the poll interval.
            await Poll.UntilAsync(() => Task.FromResult(log.GetSnapshot().Any(r => r.Id.Id == 6005)), Delivery, "the failed poll is logged");
            (await outbox.RetryAsync(id)).Should().Be("r1");
            provider.GetRequiredService<OrderOutboxSignal>().Notify("r1"); // as the API's retry wakes its replica's worker

            var delivered = await receiver.NextDeliveredAsync(TimeSpan.FromSeconds(10));
            delivered.OrderId.Should().Be(dead.OrderId, "the wake-up starts the room, though the index can be neither read nor written");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
            await RepairIndexAsync(redis);
        }
    }

    [Fact]
    public async Task RetriesThroughTheApiAnswerWhatTheyPutBackThoughTheRoomsCannotBeIndexed()
    {
        var alone = await server.CreateRoomAsync();
        var together = await server.CreateRoomAsync();
        await DeadLetterApi.WriteAsync(server, alone, server.Receiver.Url, 1, server.Receiver.Url, 0);
        await DeadLetterApi.WriteAsync(server, together, server.Receiver.Url, 2, server.Receiver.Url, 0);
        var letters = await DeadLetterApi.AllAsync(server.Api);
        var first = letters.Single(l => l.OrderId.StartsWith(alone.Id + ":", StringComparison.Ordinal));

        await BreakIndexAsync(server.Redis);
        try
        {
            using (var one = await server.Api.PostAsync(new Uri($"/api/deadletters/{first.Id}/retry", UriKind.Relative), null))
            {
                one.StatusCode.Should().Be(HttpStatusCode.Accepted, await one.Content.ReadAsStringAsync());
            }

            var all = await DeadLetterApi.RetryAllAsync(server.Api);
            all.Retried.Should().BeEquivalentTo(letters.Where(l => l != first).Select(l => l.Id), "it answers every letter it put back");
            (await DeadLetterApi.AllAsync(server.Api)).Should().BeEmpty();

            // The worker, woken by the retries, delivers them: the rooms are not in the index, and no sweep is due within
            // the test (60 s).
            await RepairIndexAsync(server.Redis);
            var delivered = new List<string>();
            for (var i = 0; i < letters.Count; i++)
            {
                delivered.Add((await server.Receiver.NextDeliveredAsync(Delivery)).OrderId);
            }

            delivered.Should().BeEquivalentTo(letters.Select(l => l.OrderId));
            var order = await server.Api.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/rooms/{together.Id}/order");
            order.GetProperty("records").GetArrayLength().Should().Be(2);
        }
        finally
        {
            await RepairIndexAsync(server.Redis);
        }
    }

    private static RoomServerOptions WebhooksTo(WebhookReceiver receiver, int pollMilliseconds, int sweepSeconds) => new()
    {
        Webhooks = new WebhookOptions
        {
            Endpoints = [new WebhookEndpoint { Url = receiver.Url, Secret = receiver.Secret }],
            PollIntervalMilliseconds = pollMilliseconds,
            SweepIntervalSeconds = sweepSeconds,
        },
    };

    /// <summary>Room r1's order record dead-lettered for the receiver, and the letter's id.</summary>
    private static async Task<(DeadLetter Dead, string Id)> DeadLetterOfR1Async(RedisOrderOutbox outbox, WebhookReceiver receiver)
    {
        var dead = new DeadLetter("", "r1:3", "r1", OrderRecordTypes.Submitted, 3, "2026-12-01T00:00:00Z", receiver.Url, 8, "HTTP 500", "2026-12-01T00:01:00Z", "{\"roomId\":\"r1\"}");
        await outbox.DeadLetterAsync(dead);
        return (dead, (await outbox.DeadLettersAsync(null, 10)).Single().Id);
    }

    /// <summary>The room index, a string: every <c>ZADD</c> on it fails (WRONGTYPE) until it is repaired.</summary>
    private static async Task BreakIndexAsync(RedisServerProcess redis) =>
        (await redis.ExecuteAsync("SET", RedisKeys.OrderRooms.ToString(), "not-an-index")).Should().Be("OK");

    private static async Task RepairIndexAsync(RedisServerProcess redis) =>
        await redis.ExecuteAsync("DEL", RedisKeys.OrderRooms.ToString());
}
