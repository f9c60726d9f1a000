using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// A Redis at its <c>maxmemory</c> (the compose files set one, with <c>noeviction</c>) refuses writes: a
/// write answers <c>unavailable</c> saying the store is full, and changes nothing — no half-applied script —
/// and once memory is freed the same write, retried with its opId, is applied once.
/// </summary>
public sealed class RedisOutOfMemoryTests
{
    private const string Room = "oomroom1";
    private const string At = "2026-12-01T00:00:00Z";

    [Fact]
    public async Task AWriteToAFullRedisAnswersUnavailableAndChangesNothing()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var options = Options.Create(new RoomServerOptions { HeartbeatMilliseconds = 60_000 }); // the heartbeat is never started
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "r1", options.Value);
        var store = standalone.RoomStore(options);
        (await store.CreateAsync(new NewRoom(Room, "epoch1", "table", [new MenuItem("pizza", "Pizza", 1200)], TimeSpan.FromHours(1), At), CancellationToken.None))
            .Should().BeTrue();
        await store.JoinAsync(new JoinRequest(Room, "ann", "Ann", new ConnectionKey("r1", "c1"), null, At), CancellationToken.None);
        var before = await store.GetSnapshotAsync(Room, CancellationToken.None);

        // Full: a limit just under what Redis already uses (noeviction is the default policy).
        await redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "1");
        var write = () => store.ChangeChoiceAsync(new ChoiceChange(Room, "ann", "pizza", ChoiceMode.Set, 2, "op-1", At), CancellationToken.None);
        var refused = (await write.Should().ThrowAsync<RoomException>()).Which;
        refused.Code.Should().Be(RoomErrorCodes.Unavailable);
        refused.Message.Should().Contain("full");

        await redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "0");
        var after = await store.GetSnapshotAsync(Room, CancellationToken.None);
        after.Version.Should().Be(before.Version, "the refused write changed nothing");
        after.Choices.Should().BeEmpty();

        var ack = (await store.ChangeChoiceAsync(new ChoiceChange(Room, "ann", "pizza", ChoiceMode.Set, 2, "op-1", At), CancellationToken.None)).Ack;
        ack.Version.Should().Be(before.Version + 1, "the retry is the write's first application");
        (await store.GetSnapshotAsync(Room, CancellationToken.None)).Choices.Should().ContainSingle(c => c.Quantity == 2);
    }
}
