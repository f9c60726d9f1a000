using System.Diagnostics;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// A per-connection token bucket: <c>rate</c> calls a second sustained, bursts up to twice that.
/// Deliberately tiny (two fields, no timer): every idle connection carries one.
/// </summary>
public sealed class CallBudget(int ratePerSecond)
{
    private readonly double _capacity = ratePerSecond * 2.0;
    private double _tokens = ratePerSecond * 2.0;
    private long _lastRefill = Stopwatch.GetTimestamp();

    public bool TryTake()
    {
        lock (this)
        {
            var now = Stopwatch.GetTimestamp();
            var elapsed = Stopwatch.GetElapsedTime(_lastRefill, now).TotalSeconds;
            _lastRefill = now;
            _tokens = Math.Min(_capacity, _tokens + (elapsed * ratePerSecond));
            if (_tokens < 1)
            {
                return false;
            }

            _tokens -= 1;
            return true;
        }
    }
}
