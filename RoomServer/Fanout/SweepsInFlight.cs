namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// The presence sweeps in flight, per room, so a connection that left a room can wait for the sweeps that
/// may still renew its lease before it releases the lease (<see cref="RoomTicker.ConnectionLeftAsync"/>).
/// Sweeps never wait for each other: a sweep of a room whose store hangs (a shard down) holds up no other room.
/// </summary>
public sealed class SweepsInFlight
{
    private readonly Dictionary<string, List<TaskCompletionSource>> _byRoom = new(StringComparer.Ordinal);

    /// <summary>
    /// Marks a sweep of <paramref name="roomId"/> as started; dispose the handle when it is done. Begin before
    /// reading which connections are joined: a leave that looks after this waits for it, and a sweep begun after
    /// a leave looked reads the connection as gone.
    /// </summary>
    public Handle Begin(string roomId)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_byRoom)
        {
            if (!_byRoom.TryGetValue(roomId, out var sweeps))
            {
                _byRoom[roomId] = sweeps = [];
            }

            sweeps.Add(done);
        }

        return new Handle(this, roomId, done);
    }

    /// <summary>Completes when every sweep of <paramref name="roomId"/> begun until now has ended.</summary>
    public Task WhenDoneAsync(string roomId)
    {
        lock (_byRoom)
        {
            return _byRoom.TryGetValue(roomId, out var sweeps) ? Task.WhenAll(sweeps.Select(s => s.Task)) : Task.CompletedTask;
        }
    }

    private void End(string roomId, TaskCompletionSource done)
    {
        lock (_byRoom)
        {
            if (_byRoom.TryGetValue(roomId, out var sweeps) && sweeps.Remove(done) && sweeps.Count == 0)
            {
                _byRoom.Remove(roomId);
            }
        }

        done.TrySetResult();
    }

    /// <summary>One sweep in flight; disposing it ends it.</summary>
    public readonly struct Handle(SweepsInFlight owner, string roomId, TaskCompletionSource done) : IDisposable
    {
        public void Dispose() => owner.End(roomId, done);
    }
}
