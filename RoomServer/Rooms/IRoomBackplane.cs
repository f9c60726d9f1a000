namespace RoomShare.RoomServer.Rooms;

/// <summary>A message on a room's channel: a versioned event or an unversioned presence change.</summary>
public abstract record BackplaneMessage(string RoomId);

public sealed record RoomEventMessage(RoomEvent Event) : BackplaneMessage(Event.RoomId);

public sealed record PresenceMessage(PresenceChange Change) : BackplaneMessage(Change.RoomId);

/// <summary>What a room message carries: a versioned <see cref="RoomEvent"/> or a <see cref="PresenceChange"/>.</summary>
public enum RoomMessageKind
{
    Event,
    Presence,
}

/// <summary>
/// A room message as its channel carried it: the kind and the JSON (validated, not parsed), passed on
/// to clients as it is — so a replica neither parses nor re-serializes the events it fans out.
/// </summary>
public sealed record EncodedRoomMessage(string RoomId, RoomMessageKind Kind, ReadOnlyMemory<byte> Json) : BackplaneMessage(RoomId)
{
    private static readonly System.Text.Json.JsonSerializerOptions WebJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    /// <summary>Parses the event, for the rare reader that needs its fields (null for presence).</summary>
    public RoomEvent? DecodeEvent() =>
        Kind == RoomMessageKind.Event ? System.Text.Json.JsonSerializer.Deserialize<RoomEvent>(Json.Span, WebJson) : null;
}

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
    /// have been lost meanwhile, so the replica tells its members the current position. The argument
    /// names the rooms re-subscribed, or is null for every room.
    /// </summary>
    event Action<IReadOnlyCollection<string>?>? Restored;
}
