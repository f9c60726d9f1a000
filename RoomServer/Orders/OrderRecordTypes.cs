using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// The transitions that hand an order off (DESIGN.md §8). state.lua has the same three rules; the
/// Redis and embedded outbox tests hold them together.
/// </summary>
public static class OrderRecordTypes
{
    public const string Submitted = "order.submitted";
    public const string Reopened = "order.reopened";
    public const string Closed = "order.closed";

    /// <summary>The record a transition writes, or null when it writes none (a no-op, or a state that hands nothing off).</summary>
    public static string? For(string from, string to) => (from, to) switch
    {
        _ when from == to => null,
        (_, RoomStates.Locked) => Submitted,
        (RoomStates.Locked, RoomStates.Open) => Reopened,
        (_, RoomStates.Closed) => Closed,
        _ => null,
    };

    /// <summary>The idempotency key: the same on every attempt and every retry of the record.</summary>
    public static string OrderId(string roomId, long version) => roomId + ":" + version.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Whether a stored orderId can go out as the <c>RoomShare-Order-Id</c> header: visible ASCII, as every id
    /// <see cref="OrderId"/> makes is. A stored record whose orderId is not (damaged) cannot be sent at all, so
    /// the outbox reads it as unreadable rather than fail every claim of its room on the header.
    /// </summary>
    public static bool IsSendable(string orderId) => orderId.Length > 0 && orderId.All(c => c is > ' ' and <= '~');
}
