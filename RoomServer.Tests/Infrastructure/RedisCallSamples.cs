using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// The samples of <c>roomshare_redis_duration_milliseconds</c> one connection records, by operation (a script's name,
/// or <c>wait</c> for a confirmed write's <c>WAIT</c>, DESIGN.md §2) and outcome. Only that connection's meters
/// (its meter factory): other tests in the process record Redis calls too.
/// </summary>
internal sealed class RedisCallSamples : IDisposable
{
    private readonly MeterListener _listener;
    private readonly ConcurrentQueue<(string Operation, string Outcome, double Milliseconds)> _samples = new();

    public RedisCallSamples(IMeterFactory factory)
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
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
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

            _samples.Enqueue((operation ?? "", outcome ?? "", value));
        });
        _listener.Start();
    }

    /// <summary>Every sample so far, oldest first.</summary>
    public IReadOnlyList<(string Operation, string Outcome, double Milliseconds)> All => [.. _samples];

    /// <summary>How many samples of <paramref name="operation"/> (with <paramref name="outcome"/>, when given).</summary>
    public int Count(string operation, string? outcome = null) =>
        _samples.Count(s => s.Operation == operation && (outcome is null || s.Outcome == outcome));

    public void Dispose() => _listener.Dispose();
}
