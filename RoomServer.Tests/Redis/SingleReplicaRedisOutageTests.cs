using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// One replica whose Redis goes away and comes back: calls fail with <c>unavailable</c> within the
/// store's deadline (never hang, never a false acknowledgement), readiness reports it, and after
/// Redis returns the same replica serves and delivers again — no restart. Its own fixture: it stops Redis.
/// </summary>
public sealed class SingleReplicaRedisOutageTests(RedisContractServer server) : IClassFixture<RedisContractServer>
{
    [Fact]
    public async Task WhileRedisIsDownCallsFailUnavailableAndAfterItReturnsTheReplicaServesAndDeliversAgain()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        await using var bob = await server.JoinAsync(room, "bob");
        (await ann.Client.SetChoiceAsync(room, "pizza", 2, "before")).Version.Should().Be(3);

        await server.Redis.StopAsync();

        var clock = Stopwatch.StartNew();
        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 5, "during")).Should().Be("unavailable");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(8), "a call fails at its deadline instead of hanging");
        await ReadinessShouldBeAProblemAsync();
        var create = await server.Api.PostAsJsonAsync("/api/rooms", new { name = "x", menu = ContractServer.Menu });
        create.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        var problem = (await create.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be("unavailable");
        problem.Detail.Should().Contain("Idempotency-Key", "an HTTP caller retries with its Idempotency-Key: the API has no opId");

        while (ann.Client.TryRead("Position", out _))
        {
        }

        await server.Redis.StartAgainAsync();
        await WaitUntilReadyAsync();
        using (var ready = await server.Anonymous.GetAsync("/readyz"))
        {
            ready.Content.Headers.ContentType!.MediaType.Should().Be("application/json", "a ready replica's answer is no problem");
            (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().Should().Be("ready");
        }

        var snapshot = await server.SnapshotAsync(room);
        snapshot.Choices.Should().ContainSingle(c => c.MenuId == "pizza" && c.MemberId == "ann", "the acknowledged write survived (AOF)");
        var retried = await ann.Client.SetChoiceAsync(room, "pizza", 5, "during");
        retried.Quantity.Should().Be(5, "the unacknowledged write is retried with its opId (applied once whether or not it landed)");

        // /readyz answering again means commands work; the backplane re-subscribes (and verifies)
        // on its own schedule. Writes are made until one arrives live — bounded — and then every
        // later one must too.
        var live = false;
        for (var attempt = 0; attempt < 10 && !live; attempt++)
        {
            var probe = await bob.Client.SetChoiceAsync(room, "cola", attempt + 1, $"after-{attempt}");
            live = await ArrivesAsync(ann, probe.Version, TimeSpan.FromSeconds(2));
        }

        live.Should().BeTrue("after Redis returns, the replica delivers again without a restart");
        var ack = await bob.Client.SetChoiceAsync(room, "cola", 20, "after-final");
        (await ArrivesAsync(ann, ack.Version, TimeSpan.FromSeconds(10))).Should().BeTrue();
        // The ticks tell the members the room's position again once Redis is back: a tick's for a write whose event
        // the re-subscription missed, or the restore's (the last write's event ends those; PositionAfterRestoreTests).
        var position = await ann.Client.WaitForAsync("Position", p => p.GetProperty("version").GetInt64() >= 3, TimeSpan.FromSeconds(10));
        position.GetProperty("epoch").GetString().Should().Be(room.Epoch);
    }

    /// <summary>
    /// DESIGN §5: /readyz's 503 is a problem with code unavailable and the reason as its detail; the members its body
    /// had before (replica, reason, and the old string status as readiness) stay for the scripts that read them.
    /// </summary>
    private async Task ReadinessShouldBeAProblemAsync()
    {
        using var notReady = await server.Anonymous.GetAsync("/readyz");
        notReady.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        notReady.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await notReady.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be("unavailable");
        problem.GetProperty("status").GetInt32().Should().Be(503);
        var detail = problem.GetProperty("detail").GetString();
        detail.Should().NotBeNullOrWhiteSpace("the detail says why the replica is not ready");
        problem.GetProperty("reason").GetString().Should().Be(detail);
        problem.GetProperty("readiness").GetString().Should().Be("unavailable");
        problem.GetProperty("replica").GetString().Should().NotBeNullOrWhiteSpace();
    }

    private static async Task<bool> ArrivesAsync(JoinedMember member, long version, TimeSpan within)
    {
        try
        {
            await member.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == version, within);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private Task WaitUntilReadyAsync() => Poll.UntilAsync(
        async () => (await server.Anonymous.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK,
        TimeSpan.FromSeconds(20),
        "the replica reconnects to Redis by itself and is ready again");
}
