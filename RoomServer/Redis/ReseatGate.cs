namespace RoomShare.RoomServer.Redis;

/// <summary>
/// One channel's re-makes after a message heard twice (<see cref="RedisConnection.UnsubscribeEverywhereAsync"/>): one at
/// a time, and spaced out — with several replicas in a shard the copy may be missed, and each message heard twice meanwhile
/// must not start another.
/// </summary>
internal sealed class ReseatGate
{
    /// <summary>The least time between two re-makes of one channel.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(10);

    private int _running;
    private long _lastBegun;

    /// <summary>True when none runs and the last began at least <see cref="Every"/> ago; the caller then calls <see cref="End"/>.</summary>
    public bool TryBegin()
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return false;
        }

        // Only the holder of _running reads or writes _lastBegun.
        var now = Environment.TickCount64;
        if (_lastBegun != 0 && now - _lastBegun < (long)Every.TotalMilliseconds)
        {
            Volatile.Write(ref _running, 0);
            return false;
        }

        _lastBegun = now;
        return true;
    }

    public void End() => Volatile.Write(ref _running, 0);
}
