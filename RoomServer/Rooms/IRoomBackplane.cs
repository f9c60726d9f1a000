namespace RoomShare.RoomServer.Rooms;

/// <summary>A message on a room's channel: a versioned event or an unversioned presence change.</summary>
public abstract record BackplaneMessage(string RoomId);

public sealed record RoomEventMessage(RoomEvent Event) : BackplaneMessage(Event.RoomId);

public sealed record PresenceMessage(PresenceChange Change) : BackplaneMessage(Change.RoomId);

/// <summary>
/// The fan-out seam: how a replica hears every message of a room it has members in. The store
/// publishes (inside its atomic change, so channel order is version order); the backplane only
/// subscribes. Delivery is at most once — versions and history make up for what it loses.
/// </summary>
public interface IRoomBackplane
{
    /// <summary>
    /// Subscribes to one room's channel. The handler is called in channel order and must not block.
    /// Dispose the result to unsubscribe. Callers subscribe at most once per room.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(string roomId, Action<BackplaneMessage> handler, CancellationToken cancellationToken);

    /// <summary>
    /// Raised after the backplane lost its connection and has re-subscribed every room: messages may
    /// have been lost meanwhile, so the replica tells its members the current position.
    /// </summary>
    event Action? Restored;
}
