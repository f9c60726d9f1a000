using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// More rooms waiting than one replica takes at once (<see cref="OrderDeliveryWorker.MaxRoomsInDelivery"/>,
/// an endpoint down for long): the replica holding the oldest thousand must not leave the others idle. A
/// replica reads past the rooms another replica is delivering, so the rest of the index is delivered
/// beside them (DESIGN.md §8). The worker runs in process on a real redis-server, with another consumer
/// holding the index's oldest thousand rooms.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class DeliveryWindowTests
{
    private const int Held = OrderDeliveryWorker.MaxRoomsInDelivery;
    private const int Beyond = 60;

    [Fact]
    public async Task RoomsPastTheThousandAnotherReplicaHoldsAreDeliveredBesideThem()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "w1");
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        await receiver.StartAsync();
        var options = Options.Create(new RoomServerOptions
        {
            ReplicaId = "w1",
            Webhooks = new WebhookOptions
            {
                Endpoints = [new WebhookEndpoint { Url = receiver.Url, Secret = receiver.Secret }],
                PollIntervalMilliseconds = 100,
                ClaimTimeoutSeconds = 600, // no takeover of the held rooms within the test
            },
        });
        var outbox = standalone.OrderOutbox(options);

        // A record in each room's outbox, and each room in the index (a retried dead letter is both), oldest first.
        var rooms = Enumerable.Range(0, Held + Beyond).Select(i => "room" + i.ToString("D4", CultureInfo.InvariantCulture)).ToList();
        foreach (var room in rooms)
        {
            await outbox.DeadLetterAsync(new DeadLetter(
                "", room + ":3", room, OrderRecordTypes.Submitted, 3, "2026-12-01T00:00:00Z", receiver.Url, 8, "HTTP 500", "2026-12-01T00:01:00Z", "{\"roomId\":\"" + room + "\"}"));
        }

        string? after = null;
        for (var page = await outbox.DeadLettersAsync(after, 1000); page.Count > 0; page = await outbox.DeadLettersAsync(after, 1000))
        {
            foreach (var letter in page)
            {
                (await outbox.RetryAsync(letter.Id)).Should().NotBeNull();
            }

            after = page[^1].Id;
        }

        // Another replica is delivering the index's oldest thousand (its endpoint hangs, say).
        var oldest = (await outbox.RoomsWithWorkAsync(Held)).Select(r => r.RoomId).ToList();
        oldest.Should().HaveCount(Held);
        foreach (var room in oldest)
        {
            (await outbox.ClaimNextAsync(room, "other", TimeSpan.FromMinutes(10))).Outcome.Should().Be(ClaimOutcome.Claimed);
        }

        await using var provider = InProcessDeliveryWorker.Build(options, outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var expected = rooms.Except(oldest).Select(r => r + ":3").ToHashSet();
            await Poll.UntilAsync(
                () => Task.FromResult(receiver.All.Select(r => r.OrderId).Distinct().Count() >= Beyond),
                TimeSpan.FromSeconds(30),
                $"the {Beyond} rooms past the held thousand are delivered by this replica");
            receiver.All.Select(r => r.OrderId).Should().OnlyContain(id => expected.Contains(id), "the held rooms are the other replica's");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }
}
