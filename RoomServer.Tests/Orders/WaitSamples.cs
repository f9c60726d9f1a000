using System.Diagnostics.Metrics;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Counts the <c>wait</c> samples of <c>roomshare_redis_duration_milliseconds</c> one connection records: each is a
/// confirmed write's <c>WAIT</c> (DESIGN.md §2). Only that connection's meters: other tests in the process record too.
/// </summary>
internal sealed class WaitSamples : IDisposable
{
    private readonly MeterListener _listener;
    private int _ok;
    private int _all;

    public WaitSamples(IMeterFactory factory)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "roomshare.redis.duration" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            string? operation = null, outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "operation")
                {
                    operation = tag.Value as string;
                }
                else if (tag.Key == "outcome")
                {
                    outcome = tag.Value as string;
                }
            }

            if (operation == "wait")
            {
                Interlocked.Increment(ref _all);
                if (outcome == "ok")
                {
                    Interlocked.Increment(ref _ok);
                }
            }
        });
        _listener.Start();
    }

    /// <summary>WAITs that confirmed their write.</summary>
    public int Ok => Volatile.Read(ref _ok);

    /// <summary>WAITs, confirmed or not.</summary>
    public int All => Volatile.Read(ref _all);

    public void Dispose() => _listener.Dispose();
}
