using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// Holds one presence sweep of one room before it reaches the store, until the test releases it: the
/// window in which a position tick is in flight. Everything else goes straight to the real store.
/// Single use: one hold per server.
/// </summary>
public sealed class SweepHold
{
    private readonly TaskCompletionSource<IReadOnlyCollection<LocalConnection>> _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _roomId;
    private int _connections;

    /// <summary>
    /// The next sweep of this room that renews at least <paramref name="connections"/> connections is
    /// held (a tick whose room snapshot was taken before the last Join completed has fewer).
    /// </summary>
    public void Arm(string roomId, int connections)
    {
        Volatile.Write(ref _connections, connections);
        Volatile.Write(ref _roomId, roomId);
    }

    /// <summary>Completes when the sweep is held, with the connections it is renewing.</summary>
    public Task<IReadOnlyCollection<LocalConnection>> Held => _held.Task;

    public void Release() => _released.TrySetResult();

    /// <summary>Replaces the server's <see cref="IRoomStore"/> with the same store behind this hold.</summary>
    public void Decorate(IServiceCollection services) => RoomStoreInterceptor.Decorate(services, (store, method, args) =>
        method.Name == nameof(IRoomStore.SweepPresenceAsync) ? SweepAsync(store, (PresenceSweep)args[0]!, (CancellationToken)args[1]!) : null);

    private async Task<SweepOutcome> SweepAsync(IRoomStore store, PresenceSweep sweep, CancellationToken cancellationToken)
    {
        if (sweep.RoomId == Volatile.Read(ref _roomId)
            && sweep.LiveConnections.Count >= Volatile.Read(ref _connections)
            && Interlocked.CompareExchange(ref _roomId, null, sweep.RoomId) == sweep.RoomId)
        {
            _held.TrySetResult(sweep.LiveConnections);
            await _released.Task.WaitAsync(cancellationToken);
        }

        return await store.SweepPresenceAsync(sweep, cancellationToken);
    }
}
