using System.Collections.Concurrent;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>
/// Embedded-mode fan-out: the in-memory store publishes here while it holds the room's lock, so
/// handlers see messages in version order, exactly as Redis pub/sub delivers them in scaled mode.
/// </summary>
public sealed class InProcessBackplane : IRoomBackplane
{
    private readonly ConcurrentDictionary<string, Action<BackplaneMessage>> _handlers = new(StringComparer.Ordinal);

    // An in-process backplane never loses its connection, so it is never "restored".
    public event Action<IReadOnlyCollection<string>?>? Restored
    {
        add { }
        remove { }
    }

    public Task<IAsyncDisposable> SubscribeAsync(string roomId, Action<BackplaneMessage> handler, CancellationToken cancellationToken)
    {
        _handlers.AddOrUpdate(roomId, handler, (_, existing) => existing + handler);
        return Task.FromResult<IAsyncDisposable>(new Subscription(this, roomId, handler));
    }

    /// <summary>Delivers a message to the room's subscribers, synchronously, in the caller's order.</summary>
    public void Publish(BackplaneMessage message)
    {
        if (_handlers.TryGetValue(message.RoomId, out var handler))
        {
            handler(message);
        }
    }

    private void Unsubscribe(string roomId, Action<BackplaneMessage> handler)
    {
        while (_handlers.TryGetValue(roomId, out var existing))
        {
            var remaining = existing - handler;
            var done = remaining is null
                ? _handlers.TryRemove(new KeyValuePair<string, Action<BackplaneMessage>>(roomId, existing))
                : _handlers.TryUpdate(roomId, remaining, existing);
            if (done)
            {
                return;
            }
        }
    }

    private sealed class Subscription(InProcessBackplane owner, string roomId, Action<BackplaneMessage> handler) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            owner.Unsubscribe(roomId, handler);
            return ValueTask.CompletedTask;
        }
    }
}
