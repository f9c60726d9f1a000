using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Metrics;

/// <summary>
/// An in-process server's <c>roomshare.deliveries</c> as it stands the moment each of one room's events has been
/// fanned out (read from <see cref="RoomMembership.Delivered"/>, raised after the event's writes and their count):
/// a difference between two events is exact, with no wait for the counter to settle. The room's messages are
/// delivered one at a time, in order, so the count at an event includes every message of the room before it.
/// </summary>
public sealed class DeliveriesAtEvents : IDisposable
{
    private readonly RoomMembership _membership;
    private readonly MetricCollector<long> _deliveries;
    private readonly string _roomId;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<DeliveryMark>> _marks = new();
    private long _messages;

    public DeliveriesAtEvents(IServiceProvider services, string roomId)
    {
        _roomId = roomId;
        _membership = services.GetRequiredService<RoomMembership>();
        // Scoped to this server's meter factory: other servers in the test process count deliveries too.
        _deliveries = new MetricCollector<long>(services.GetRequiredService<IMeterFactory>(), RoomMetrics.MeterName, "roomshare.deliveries");
        _membership.Delivered += OnDelivered;
    }

    /// <summary>The room's messages delivered and the deliveries counted, once the event of <paramref name="version"/> has been fanned out.</summary>
    public Task<DeliveryMark> AtEventAsync(long version) =>
        Mark(version).Task.WaitAsync(TimeSpan.FromSeconds(10));

    public void Dispose()
    {
        _membership.Delivered -= OnDelivered;
        _deliveries.Dispose();
    }

    private void OnDelivered(BackplaneMessage message)
    {
        if (message.RoomId != _roomId)
        {
            return;
        }

        var messages = Interlocked.Increment(ref _messages);
        if (VersionOf(message) is { } version)
        {
            Mark(version).TrySetResult(new DeliveryMark(messages, _deliveries.GetMeasurementSnapshot().Sum(m => m.Value)));
        }
    }

    private TaskCompletionSource<DeliveryMark> Mark(long version) =>
        _marks.GetOrAdd(version, _ => new TaskCompletionSource<DeliveryMark>(TaskCreationOptions.RunContinuationsAsynchronously));

    private static long? VersionOf(BackplaneMessage message)
    {
        switch (message)
        {
            case RoomEventMessage e:
                return e.Event.Version;
            case EncodedRoomMessage { Kind: RoomMessageKind.Event } encoded:
                using (var json = JsonDocument.Parse(encoded.Json))
                {
                    return json.RootElement.GetProperty("version").GetInt64();
                }

            default:
                return null;
        }
    }
}

/// <summary>The room's messages delivered so far (every kind), and <c>roomshare.deliveries</c> at that moment.</summary>
public readonly record struct DeliveryMark(long Messages, long Deliveries);
