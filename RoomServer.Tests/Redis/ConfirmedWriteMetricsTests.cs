using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// <c>roomshare_redis_duration_milliseconds</c> where writes are confirmed (DESIGN.md §2): a write no replica
/// confirmed is a failed sample of its script's operation as well as of <c>wait</c>. A master whose one replica is frozen (SIGSTOP: linked, acknowledging nothing).
/// </summary>
public sealed class ConfirmedWriteMetricsTests
{
    private const string Room = "confirmedmetrics1";
    private const string At = "2026-12-01T00:00:00Z";

    [Fact]
    public async Task AWriteNoReplicaConfirmedIsAFailedSampleOfItsScriptAndOfWait()
    {
        await using var master = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync();
        await replica.ReplicateAsync(master);
        var options = Options.Create(new RoomServerOptions
        {
            Redis = new RedisOptions { ReplicasToAcknowledge = 1 },
            HeartbeatMilliseconds = 60_000, // the store's heartbeat is never started: hearing for 3 minutes
        });
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, "r1", options.Value);
        var store = standalone.RoomStore(options);
        (await store.CreateAsync(new NewRoom(Room, "epoch1", "table", [new MenuItem("pizza", "Pizza", 1200)], TimeSpan.FromHours(1), At), CancellationToken.None))
            .Should().BeTrue();
        await store.JoinAsync(new JoinRequest(Room, "ann", "Ann", new ConnectionKey("r1", "c1"), null, At), CancellationToken.None);

        using var calls = new RedisCallSamples(standalone.MeterFactory);

        PosixSignal.Stop(replica.Pid);
        try
        {
            var write = () => store.ChangeChoiceAsync(new ChoiceChange(Room, "ann", "pizza", ChoiceMode.Set, 3, "op-1", At), CancellationToken.None);
            (await write.Should().ThrowAsync<RoomException>()).Which.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            PosixSignal.Continue(replica.Pid);
        }

        var choice = calls.All.Where(s => s.Operation == "choice").Should().ContainSingle("one call, one sample").Subject;
        choice.Outcome.Should().Be("failed", "the write was answered unavailable");
        // The WAIT's own sample is recorded when it answers: inside the deadline, but on a busy box maybe after the call gave up.
        await Poll.UntilAsync(() => calls.All.Any(s => s.Operation == "wait"), TimeSpan.FromSeconds(5), "the WAIT answered");
        var wait = calls.All.Where(s => s.Operation == "wait").Should().ContainSingle().Subject;
        wait.Outcome.Should().Be("failed");
    }
}
