namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// The error vocabulary of DESIGN.md §5. Every rejected call carries exactly one of these codes:
/// hubs send it as the start of the HubException message (<c>code: text</c>), the HTTP API as the
/// <c>code</c> member of an RFC 7807 problem.
/// </summary>
public static class RoomErrorCodes
{
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string RoomNotFound = "room_not_found";
    public const string RoomLocked = "room_locked";
    public const string RoomClosed = "room_closed";
    public const string UnknownMenuItem = "unknown_menu_item";
    public const string InvalidQuantity = "invalid_quantity";
    public const string InvalidArgument = "invalid_argument";
    public const string RateLimited = "rate_limited";
    public const string PayloadTooLarge = "payload_too_large";
    public const string Unavailable = "unavailable";

    /// <summary>The HTTP status that carries each code.</summary>
    public static int HttpStatus(string code) => code switch
    {
        Unauthorized => 401,
        Forbidden => 403,
        RoomNotFound => 404,
        RoomLocked or RoomClosed => 409,
        PayloadTooLarge => 413,
        RateLimited => 429,
        Unavailable => 503,
        _ => 400,
    };

    /// <summary>
    /// The code of an error the framework answers with a bare status (DESIGN.md §5): a request the API
    /// cannot route or read (404 unknown path, 405, 415, any other 4xx) is <c>invalid_argument</c>;
    /// every 5xx is <c>unavailable</c>.
    /// </summary>
    public static string ForHttpStatus(int status) => status switch
    {
        401 => Unauthorized,
        403 => Forbidden,
        413 => PayloadTooLarge,
        429 => RateLimited,
        >= 500 => Unavailable,
        _ => InvalidArgument,
    };
}
