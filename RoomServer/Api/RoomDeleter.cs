using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// <c>DELETE /api/rooms/{roomId}</c>: deletes the room and gives its place under <c>MaxRoomsPerApiKey</c> back to the
/// deleting key — also when the room is not there (404). That answer is most often the retry of a deletion that was
/// applied but answered <c>unavailable</c> (or re-sent by nginx), and a room that does not exist must not count until
/// its recorded expiry. A key that never held the room gives back nothing. Where writes are confirmed, "not found" is
/// answered only once a replica holds it (delete.lua), so the place follows a confirmed absence.
/// </summary>
public sealed class RoomDeleter(IRoomStore store, RoomCreator rooms, TimeProvider time)
{
    public async Task DeleteAsync(string apiKeyId, string roomId, CancellationToken cancellationToken)
    {
        var deletion = new RoomDeletion(RoomIds.RequireRoomId(roomId), time.Stamp());
        try
        {
            await store.DeleteAsync(deletion, cancellationToken);
        }
        catch (RoomException ex) when (ex.Code == RoomErrorCodes.RoomNotFound)
        {
            await rooms.ForgetDeletedAsync(apiKeyId, roomId);
            throw;
        }

        await rooms.ForgetDeletedAsync(apiKeyId, roomId);
    }
}
