using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A receiver's <c>Retry-After</c> outlives the replica it was said to (DESIGN.md §8): the replica delivering a
/// record is killed (SIGKILL) while it waits out the receiver's 503, and the replica that takes the record over
/// makes its next attempt no sooner than the receiver asked — while its wait holds up neither another room nor a
/// request slot (one per endpoint here). Real replicas on one real redis-server, a real receiver on loopback.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class RetryAfterTakeoverTests(ITestOutputHelper output)
{
    /// <summary>Longer than a takeover takes (the claim timeout, 3 s, and a poll), within the retry bounds set below.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(8);

    /// <summary>What the receiver's clock and the replicas' may disagree by, in the direction that lets the test pass: timer rounding.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AReplicaThatTakesOverARecordWaitsOutTheRetryAfterTheReceiverGaveTheDeadOne()
    {
        await using var stage = await OrderHandoffStage.StartAsync(replicas: 2, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "20000",
            ["RoomServer__Webhooks__MaxConcurrentRequests"] = "1",
        });
        var writer = stage.Replicas[0];
        var waiting = await stage.CreateRoomWithOrderAsync(writer);
        var other = await stage.CreateRoomAsync(writer);
        stage.Receiver.RetryAfter = RetryAfter;
        stage.Receiver.Answers = n => n == 0 ? ReceiverAnswer.RetryLater : ReceiverAnswer.Ok;

        var version = await stage.SetStateAsync(writer, waiting, "locked");
        var asked = await stage.Receiver.NextAsync(Delivery);
        asked.Answer.Should().Be(ReceiverAnswer.RetryLater);
        var holder = await stage.HolderAsync(waiting);
        var victim = stage.Replicas.Single(r => r.ReplicaId == holder);
        var survivor = stage.Replicas.Single(r => r != victim);

        // Killed once it has recorded the failed attempt (the write a takeover reads), well before the wait is over.
        await stage.WaitForOrderAsync(survivor, waiting,
            o => OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("attempts").GetInt32() == 1
                && (d.GetProperty("lastError").GetString() ?? "").Contains("503", StringComparison.Ordinal)),
            Delivery);
        output.WriteLine($"{holder} holds {waiting}:{version} and waits {RetryAfter.TotalSeconds} s; killing it (pid {victim.Pid})");
        victim.Kill();

        await Poll.UntilAsync(
            async () => await stage.HolderAsync(waiting) == survivor.ReplicaId || stage.Receiver.All.Count > 1,
            Delivery,
            () => $"{survivor.ReplicaId} takes the record over; received: {stage.Receiver.Describe()}");

        // Another room's record, while the taken-over one waits: delivered at once, through the endpoint's one slot.
        var otherVersion = await stage.SetStateAsync(survivor, other, "locked");
        var next = new[] { await stage.Receiver.NextAsync(Delivery), await stage.Receiver.NextAsync(Delivery) };
        output.WriteLine(stage.Receiver.Describe());

        var retried = next.Single(r => r.OrderId == $"{waiting}:{version}");
        var otherDelivered = next.Single(r => r.OrderId == $"{other}:{otherVersion}");
        (retried.At - asked.At).Should().BeGreaterThanOrEqualTo(RetryAfter - Slack, "the receiver asked for that wait, and a takeover keeps to it");
        otherDelivered.At.Should().BeLessThan(retried.At, "a record waiting out a retry holds up no other room, and holds no request slot");
        retried.Body.Should().Be(asked.Body);

        var order = await stage.WaitForOrderAsync(survivor, waiting,
            o => OrderHandoffStage.Deliveries(o).Single().GetProperty("status").GetString() == "delivered", Delivery);
        OrderHandoffStage.Deliveries(order).Single().GetProperty("attempts").GetInt32().Should().Be(2, "the dead replica's attempt counts");
        stage.Receiver.All.Should().HaveCount(3);
    }
}
