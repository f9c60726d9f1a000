namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// The room lifecycle as one transition table: open → locked → closed, locked → open,
/// open → closed; closed is final. "deleted" is never a state a room is in — it only names the
/// last event a deleted room sends. Both stores ask this table; the Redis script receives the
/// allowed source states from it, so there is one definition.
/// </summary>
public static class RoomStates
{
    public const string Open = "open";
    public const string Locked = "locked";
    public const string Closed = "closed";
    public const string Deleted = "deleted";

    private static readonly Dictionary<string, string[]> AllowedFrom = new(StringComparer.Ordinal)
    {
        [Open] = [Locked],
        [Locked] = [Open],
        [Closed] = [Open, Locked],
    };

    /// <summary>States a client may ask for with <c>SetRoomState</c> or <c>PUT /state</c>.</summary>
    public static bool IsSettable(string? state) => state is not null && AllowedFrom.ContainsKey(state);

    /// <summary>The settable state, or <c>invalid_argument</c>: the hub and the API refuse it in these words.</summary>
    public static string RequireSettable(string? state) =>
        IsSettable(state) ? state! : throw RoomException.Invalid("state must be 'open', 'locked' or 'closed'");

    /// <summary>The states from which <paramref name="target"/> may be entered.</summary>
    public static IReadOnlyList<string> SourcesOf(string target) =>
        AllowedFrom.TryGetValue(target, out var sources) ? sources : [];

    /// <summary>
    /// Decides a transition. Returns null when it is allowed or a no-op (same state), otherwise the
    /// error code: <c>room_closed</c> from closed, <c>invalid_argument</c> for anything else.
    /// </summary>
    public static string? RejectionFor(string current, string target)
    {
        if (current == target)
        {
            return null;
        }

        if (SourcesOf(target).Contains(current))
        {
            return null;
        }

        return current == Closed ? RoomErrorCodes.RoomClosed : RoomErrorCodes.InvalidArgument;
    }

    /// <summary>Whether members may change their choices in this state.</summary>
    public static string? ChoiceRejection(string state) => state switch
    {
        Locked => RoomErrorCodes.RoomLocked,
        Closed => RoomErrorCodes.RoomClosed,
        _ => null,
    };
}
