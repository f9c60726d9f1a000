namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// The one exception type domain and store code throw for a rejected call. The edges (hub filter,
/// HTTP exception handler) translate it; nothing else needs to know the codes.
/// </summary>
public sealed class RoomException : Exception
{
    public RoomException(string code, string message)
        : base(message) => Code = code;

    public RoomException(string code, string message, Exception innerException)
        : base(message, innerException) => Code = code;

    public RoomException()
        : this(RoomErrorCodes.InvalidArgument, "invalid argument")
    {
    }

    public RoomException(string message)
        : this(RoomErrorCodes.InvalidArgument, message)
    {
    }

    public RoomException(string message, Exception innerException)
        : this(RoomErrorCodes.InvalidArgument, message, innerException)
    {
    }

    /// <summary>One of <see cref="RoomErrorCodes"/>.</summary>
    public string Code { get; }

    /// <summary>The caller was removed from the room: its connection should close, not just this call fail.</summary>
    public bool EndsMembership { get; init; }

    /// <summary>
    /// The call was refused before anything reached the store (an <c>unavailable</c> that certainly
    /// changed nothing), so what was set aside for it — a room place of its API key — can be given back.
    /// </summary>
    public bool NothingSent { get; init; }

    /// <summary>The HTTP status when it is not the code's usual one (RoomExceptionHandler); null = the code's.</summary>
    public int? HttpStatus { get; init; }

    /// <summary>
    /// A request whose <c>Idempotency-Key</c> was first used with another request: 422, as the IETF draft and
    /// Stripe answer it — nothing is applied, and the first request's result stays the key's.
    /// </summary>
    public static RoomException IdempotencyKeyReused() =>
        new(RoomErrorCodes.InvalidArgument, "Idempotency-Key reused with a different request: a key names one request, and is kept for RoomServer:IdempotencyKeyHours")
        {
            HttpStatus = 422,
        };

    /// <summary>An <c>unavailable</c> refused before anything reached the store (see <see cref="NothingSent"/>).</summary>
    public static RoomException UnavailableBeforeSending(string message) =>
        new(RoomErrorCodes.Unavailable, message) { NothingSent = true };

    public static RoomException NotFound(string roomId) =>
        new(RoomErrorCodes.RoomNotFound, $"room '{roomId}' does not exist or has expired");

    public static RoomException Invalid(string message) => new(RoomErrorCodes.InvalidArgument, message);

    public static RoomException Unavailable(string message, Exception? inner = null) =>
        inner is null
            ? new(RoomErrorCodes.Unavailable, message)
            : new(RoomErrorCodes.Unavailable, message, inner);

    public static RoomException NotAMember(string memberId) => Invalid($"'{memberId}' is not a member of this room");

    public static RoomException NotOnMenu() => new(RoomErrorCodes.UnknownMenuItem, "that menu item is not on this room's menu");

    public static RoomException OwnerNotRemovable(string memberId) => Invalid($"'{memberId}' is the room's owner and cannot be removed");

    /// <summary>The code a store returns for a rejected change, with the sentence a person reads.</summary>
    public static RoomException FromCode(string code, string roomId) => code switch
    {
        RoomErrorCodes.RoomNotFound => NotFound(roomId),
        RoomErrorCodes.RoomLocked => new(code, "the room is locked: its order was handed off; choices cannot change and members cannot be removed until the owner reopens it"),
        RoomErrorCodes.RoomClosed => new(code, "the room is closed: it is read only"),
        RoomErrorCodes.UnknownMenuItem => NotOnMenu(),
        RoomErrorCodes.Forbidden => new(code, "this member was removed from the room; ask for a new link") { EndsMembership = true },
        RoomErrorCodes.RateLimited => new(code, "this member is changing the room too fast; slow down and retry"),
        _ => new(code, code.Replace('_', ' ')),
    };
}
