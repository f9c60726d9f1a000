using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// Creates rooms with fresh random ids (the API and the development demo both use it), and keeps the
/// count of each API key's live rooms (<see cref="IRoomsPerApiKey"/>): a place is reserved before the
/// room is created and given back when the room is deleted or was certainly not created.
/// </summary>
public sealed class RoomCreator(
    IRoomStore store, IRoomsPerApiKey keyRooms, IOptions<RoomServerOptions> options, TimeProvider time, ILogger<RoomCreator> logger)
{
    /// <param name="request">The body of <c>POST /api/rooms</c>, validated here.</param>
    /// <param name="apiKeyId">The creating key (Api/ApiKeyIds), or null for the development demo.</param>
    /// <param name="cancellationToken">The request's.</param>
    public async Task<RoomCreatedResponse> CreateAsync(CreateRoomRequest request, string? apiKeyId, CancellationToken cancellationToken)
    {
        var (name, menu, ttl) = RoomRequests.ValidateRoom(request, options.Value);
        var maxRooms = options.Value.Limits.MaxRoomsPerApiKey;

        // A collision of ~95-bit random ids is all but impossible; retrying keeps it harmless anyway.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var room = new NewRoom(RoomIds.NewRoomId(), RoomIds.NewEpoch(), name, menu, ttl, time.Stamp());
            if (apiKeyId is not null && !await keyRooms.TryReserveAsync(apiKeyId, room.RoomId, time.GetUtcNow() + ttl, maxRooms, cancellationToken))
            {
                throw IRoomsPerApiKey.AtLimit(maxRooms);
            }

            // A create that throws (unavailable: its outcome unknown) keeps its place: the room may exist,
            // and a place given back for a room that does would let the key past its limit. The prune
            // gives it back once its expiry has passed and the room is not there. One refused before
            // anything reached the store (a deaf replica) certainly made no room: its place goes back.
            bool created;
            try
            {
                created = await store.CreateAsync(room, cancellationToken);
            }
            catch (RoomException ex) when (ex.NothingSent && apiKeyId is not null)
            {
                await ForgetAsync(apiKeyId, room.RoomId, "the replica refused it before sending");
                throw;
            }

            if (created)
            {
                return new RoomCreatedResponse(room.RoomId, room.Epoch);
            }

            if (apiKeyId is not null)
            {
                await ForgetAsync(apiKeyId, room.RoomId, "its id was taken");
            }
        }

        throw RoomException.Unavailable("could not allocate a room id");
    }

    /// <summary>
    /// Gives a deleted room's place back to the deleting key. Best effort: the deletion stands either
    /// way, and a place not given back now is pruned once the room's recorded expiry has passed.
    /// </summary>
    public Task ForgetDeletedAsync(string apiKeyId, string roomId) => ForgetAsync(apiKeyId, roomId, "deleted");

    private async Task ForgetAsync(string apiKeyId, string roomId, string why)
    {
        try
        {
            await keyRooms.ReleaseAsync(apiKeyId, roomId, CancellationToken.None);
        }
        catch (RoomException ex)
        {
            ApiLog.RoomNotForgotten(logger, roomId, apiKeyId, $"{why}; {ex.Message}");
        }
    }
}
