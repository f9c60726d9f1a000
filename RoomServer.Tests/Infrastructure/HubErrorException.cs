namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A hub method completed with an error. SignalR sends a HubException as "An unexpected error occurred
/// invoking 'X' on the server. HubException: room_locked: the room is locked"; the part after
/// "HubException: " (<see cref="ErrorText"/>) starts with the code of DESIGN.md §5 (<see cref="Code"/>).
/// </summary>
public sealed class HubErrorException : Exception
{
    private const string HubExceptionMarker = "HubException: ";

    public HubErrorException()
        : this(string.Empty)
    {
    }

    /// <param name="message">The server's error text, exactly as the completion carried it.</param>
    public HubErrorException(string message)
        : this(message, null)
    {
    }

    public HubErrorException(string message, Exception? innerException)
        : base(message, innerException)
    {
        var marker = message.IndexOf(HubExceptionMarker, StringComparison.Ordinal);
        ErrorText = marker < 0 ? message : message[(marker + HubExceptionMarker.Length)..];
        var colon = ErrorText.IndexOf(':', StringComparison.Ordinal);
        Code = (colon < 0 ? ErrorText : ErrorText[..colon]).Trim();
    }

    /// <summary>The HubException's own message ("room_locked: the room is locked"), without SignalR's prefix.</summary>
    public string ErrorText { get; }

    /// <summary>The text before the first ':' of <see cref="ErrorText"/> (all of it when there is none), e.g. "room_locked".</summary>
    public string Code { get; }
}
