using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Where writes are confirmed (DESIGN.md §2), a room's place under its API key's limit (§4, <c>MaxRoomsPerApiKey</c>) is
/// confirmed before the room is made: the key's set lives on its own slot, which the room's confirmed create does not cover,
/// and a place a failover lost would let the key past its limit with the room uncounted for its whole life.
/// </summary>
public sealed class ConfirmedKeyRoomsTests
{
    private const string KeyId = "0a1b2c3d4e5f6071";

    /// <summary>
    /// A create whose place could not be confirmed made no room, and its retry draws another id: the place is given back,
    /// or every retry while the key's shard has no replica would hold one more until the room's expiry.
    /// </summary>
    [Fact]
    public async Task ACreateWhosePlaceCannotBeConfirmedGivesThePlaceBack()
    {
        await using var stage = await ConfirmedWritesStage.StartAsync();
        var options = Options.Create(new RoomServerOptions());
        var creator = CreatorOn(stage, options);
        var request = new CreateRoomRequest("table", [new MenuItemRequest("pizza", "Pizza", 1200)]);

        PosixSignal.Stop(stage.Replica.Pid);
        try
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var create = () => creator.CreateAsync(request, KeyId, null, CancellationToken.None);
                (await create.Should().ThrowAsync<RoomException>()).Which.Code.Should().Be(RoomErrorCodes.Unavailable);
            }

            (await stage.Master.ExecuteAsync("ZCARD", RedisKeys.ApiKeyRooms(KeyId).ToString())).Should().Be("0", "no refused create holds a place");
        }
        finally
        {
            PosixSignal.Continue(stage.Replica.Pid);
        }
    }

    /// <summary>
    /// A deletion applied on the master but answered <c>unavailable</c> (no replica confirmed it) is retried, and told
    /// "not found" once a replica holds it: that answer gives the deleting key's place back (<see cref="RoomDeleter"/>),
    /// or a key at its limit would be refused rooms until the gone room's recorded expiry (12 h by default).
    /// </summary>
    [Fact]
    public async Task ARetriedDeletionToldNotFoundGivesTheKeysPlaceBack()
    {
        await using var stage = await ConfirmedWritesStage.StartAsync();
        var options = Options.Create(new RoomServerOptions { Limits = new LimitOptions { MaxRoomsPerApiKey = 1 } });
        var creator = CreatorOn(stage, options);
        var request = new CreateRoomRequest("table", [new MenuItemRequest("pizza", "Pizza", 1200)]);
        var room = (await creator.CreateAsync(request, KeyId, null, CancellationToken.None)).RoomId;

        PosixSignal.Stop(stage.Replica.Pid);
        try
        {
            var delete = () => new RoomDeleter(stage.First, creator, TimeProvider.System).DeleteAsync(KeyId, room, CancellationToken.None);
            (await delete.Should().ThrowAsync<RoomException>("applied, but no replica confirmed it")).Which.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            PosixSignal.Continue(stage.Replica.Pid);
        }

        // The caller retries and reaches the other replica, which finds no room.
        var retry = new RoomDeleter(stage.Second, creator, TimeProvider.System);
        (await ConfirmedWritesStage.AnswerOnceConfirmedAsync(() => retry.DeleteAsync(KeyId, room, CancellationToken.None)))
            .Should().Be(RoomErrorCodes.RoomNotFound);

        var create = () => creator.CreateAsync(request, KeyId, null, CancellationToken.None);
        await create.Should().NotThrowAsync("the deleted room no longer holds the key's one place");
        (await stage.Master.ExecuteAsync("ZCARD", RedisKeys.ApiKeyRooms(KeyId).ToString())).Should().Be("1", "the new room holds it");
    }

    [Fact]
    public async Task APlaceIsAnsweredOnlyOnceAReplicaHoldsIt()
    {
        await using var stage = await ConfirmedWritesStage.StartAsync();
        var places = new RedisRoomsPerApiKey(stage.FirstConnection, TimeProvider.System);
        var expiry = DateTimeOffset.UtcNow.AddHours(1);

        PosixSignal.Stop(stage.Replica.Pid);
        try
        {
            var reserve = () => places.TryReserveAsync(KeyId, "keyroom1", expiry, 5, CancellationToken.None);
            (await reserve.Should().ThrowAsync<RoomException>("no replica holds the place")).Which.Code.Should().Be(RoomErrorCodes.Unavailable);
            var hold = () => places.HoldAsync(KeyId, "keyroom2", expiry, CancellationToken.None);
            (await hold.Should().ThrowAsync<RoomException>()).Which.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            PosixSignal.Continue(stage.Replica.Pid);
        }

        var reserved = false;
        (await ConfirmedWritesStage.AnswerOnceConfirmedAsync(async () => reserved = await places.TryReserveAsync(KeyId, "keyroom3", expiry, 5, CancellationToken.None)))
            .Should().BeNull("the replica confirms again");
        reserved.Should().BeTrue();
        (await stage.Replica.ExecuteAsync("ZSCORE", RedisKeys.ApiKeyRooms(KeyId).ToString(), "keyroom3")).Should().NotBeNull("the replica holds the place");
    }

    /// <summary>A room creator on the stage's first connection, its places and idempotency records kept in Redis.</summary>
    private static RoomCreator CreatorOn(ConfirmedWritesStage stage, IOptions<RoomServerOptions> options) => new(
        stage.First,
        new RedisRoomsPerApiKey(stage.FirstConnection, TimeProvider.System),
        new RedisIdempotencyRecords(stage.FirstConnection, options),
        options,
        TimeProvider.System,
        NullLogger<RoomCreator>.Instance);
}
