using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// Creates rooms with fresh random ids (the API and the development demo both use it). A room the API
/// creates counts against its key's live rooms (<see cref="IRoomsPerApiKey"/>): reserved first, released
/// again if the room was not created.
/// </summary>
public sealed class RoomCreator(IRoomStore store, IRoomsPerApiKey keyRooms, IOptions<RoomServerOptions> options, TimeProvider time)
{
    /// <param name="request">The validated-here body of <c>POST /api/rooms</c>.</param>
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

            var created = false;
            try
            {
                created = await store.CreateAsync(room, cancellationToken);
            }
            finally
            {
                if (!created && apiKeyId is not null)
                {
                    await keyRooms.ReleaseAsync(apiKeyId, room.RoomId, CancellationToken.None);
                }
            }

            if (created)
            {
                return new RoomCreatedResponse(room.RoomId, room.Epoch);
            }
        }

        throw RoomException.Unavailable("could not allocate a room id");
    }
}
