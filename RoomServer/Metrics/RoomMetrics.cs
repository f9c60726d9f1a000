using System.Diagnostics.Metrics;

namespace RoomShare.RoomServer.Metrics;

/// <summary>
/// The <c>RoomShare</c> meter (DESIGN.md §9), exported at <c>/metrics</c> as <c>roomshare_*</c>. One
/// instrument per question an operator asks: how many are connected, what reaches members and how
/// late, what Redis costs, which errors clients get, who was dropped to a resync.
/// </summary>
public sealed class RoomMetrics
{
    public const string MeterName = "RoomShare";

    private readonly UpDownCounter<long> _connections;
    private readonly UpDownCounter<long> _joinedRooms;
    private readonly Counter<long> _roomMessages;
    private readonly Counter<long> _deliveries;
    private readonly Histogram<double> _deliveryLag;
    private readonly Histogram<double> _redisCalls;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _resyncs;
    private readonly Counter<long> _writes;

    /// <summary>
    /// Buckets for the latency histograms, in ms. OpenTelemetry's default boundaries start at 0, 5, 10, so every
    /// loopback Redis call (~0.3–1 ms) and every ordinary delivery (1–3 ms) would land in the first bucket and a
    /// p50 or p99 read from the buckets would say ~2.5 or ~5 ms whatever the truth: a 10× slowdown unseen.
    /// </summary>
    public static readonly double[] LatencyBucketsMs =
        [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000];

    private static readonly InstrumentAdvice<double> LatencyAdvice = new() { HistogramBucketBoundaries = LatencyBucketsMs };

    public RoomMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>("roomshare.connections", "{connection}", "Hub connections open on this replica");
        _joinedRooms = meter.CreateUpDownCounter<long>("roomshare.rooms.joined", "{room}", "Rooms with at least one connection on this replica");
        _roomMessages = meter.CreateCounter<long>("roomshare.room.messages", "{message}", "Room messages (events, presence) this replica heard on room channels");
        _deliveries = meter.CreateCounter<long>("roomshare.deliveries", "{message}", "Room messages written to member connections, one per connection (those kept for a Join count once it is admitted)");
        _deliveryLag = meter.CreateHistogram<double>("roomshare.delivery.lag", "ms", "From an event's acceptance (its 'at') to its hand-over to this replica's connections", tags: null, LatencyAdvice);
        _redisCalls = meter.CreateHistogram<double>("roomshare.redis.duration", "ms", "Redis call latency, by operation and outcome", tags: null, LatencyAdvice);
        _errors = meter.CreateCounter<long>("roomshare.errors", "{error}", "Calls refused with a DESIGN §5 code, by code and edge (hub, http)");
        _resyncs = meter.CreateCounter<long>("roomshare.slow_consumer.resyncs", "{connection}", "Connections closed because too much waited for them");
        _writes = meter.CreateCounter<long>("roomshare.writes", "{write}", "Acknowledged room writes made through this replica, by operation (a retry answered from its opId is not counted again)");

        // Exported from the start (at 0) rather than from their first event, so a dashboard or alert
        // on an idle replica reads 0, not "no data".
        _connections.Add(0);
        _joinedRooms.Add(0);
        _resyncs.Add(0);
    }

    public void ConnectionOpened() => _connections.Add(1);

    public void ConnectionClosed() => _connections.Add(-1);

    public void RoomJoined() => _joinedRooms.Add(1);

    public void RoomLeft() => _joinedRooms.Add(-1);

    public void RoomMessage(string kind) => _roomMessages.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Delivered(int connections) => _deliveries.Add(connections);

    public void DeliveryLag(double milliseconds) => _deliveryLag.Record(milliseconds);

    public void RedisCall(string operation, double milliseconds, bool ok) =>
        _redisCalls.Record(milliseconds, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("outcome", ok ? "ok" : "failed"));

    public void Error(string code, string edge) =>
        _errors.Add(1, new KeyValuePair<string, object?>("code", code), new KeyValuePair<string, object?>("edge", edge));

    public void SlowConsumerResync() => _resyncs.Add(1);

    public void Write(string operation) => _writes.Add(1, new KeyValuePair<string, object?>("operation", operation));
}
