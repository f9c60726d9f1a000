using System.Collections.Concurrent;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// A value built from a room id (its script KEYS, its publish argument), kept so that a change does not
/// build it again: those strings were ~10 % of what a replica allocated per change. Bounded: once it holds
/// <paramref name="capacity"/> rooms it starts over, which costs only the rebuilding. Only a value
/// <paramref name="build"/> returned (having validated the id) is kept, and callers share it: never write to it.
/// </summary>
internal sealed class PerRoomCache<T>(Func<string, T> build, int capacity = 8192)
    where T : class
{
    private readonly ConcurrentDictionary<string, T> _values = new(StringComparer.Ordinal);
    private int _count;

    public T Get(string roomId)
    {
        if (roomId is null)
        {
            // Not a key the dictionary takes: the build's validation refuses it with its §5 code, as before the cache.
            return build(roomId!);
        }

        if (_values.TryGetValue(roomId, out var value))
        {
            return value;
        }

        value = build(roomId);
        if (_values.TryAdd(roomId, value) && Interlocked.Increment(ref _count) > capacity)
        {
            // ConcurrentDictionary.Count takes every lock, so the count is kept here.
            _values.Clear();
            Interlocked.Exchange(ref _count, 0);
        }

        return value;
    }
}
