using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace RoomShare.Floor;

/// <summary>Every room of the floor process, in memory, by id.</summary>
public sealed class FloorRooms
{
    private readonly ConcurrentDictionary<string, FloorRoom> _rooms = new(StringComparer.Ordinal);

    public FloorRoom Create()
    {
        var room = new FloorRoom(NewId(), NewId());
        _rooms[room.RoomId] = room;
        return room;
    }

    public FloorRoom? Find(string roomId) => _rooms.GetValueOrDefault(roomId);

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}
