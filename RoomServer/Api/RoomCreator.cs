using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>Creates rooms with fresh random ids (the API and the development demo both use it).</summary>
public sealed class RoomCreator(IRoomStore store, IOptions<RoomServerOptions> options, TimeProvider time)
{
    public async Task<RoomCreatedResponse> CreateAsync(CreateRoomRequest request, CancellationToken cancellationToken)
    {
        var (name, menu, ttl) = RoomRequests.ValidateRoom(request, options.Value);

        // A collision of ~95-bit random ids is all but impossible; retrying keeps it harmless anyway.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var room = new NewRoom(RoomIds.NewRoomId(), RoomIds.NewEpoch(), name, menu, ttl, time.Stamp());
            if (await store.CreateAsync(room, cancellationToken))
            {
                return new RoomCreatedResponse(room.RoomId, room.Epoch);
            }
        }

        throw RoomException.Unavailable("could not allocate a room id");
    }
}
