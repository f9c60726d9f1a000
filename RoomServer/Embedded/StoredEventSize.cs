using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>
/// The bytes of an event's JSON as the Redis store keeps it in the room's audit trail (<c>append_event</c> in
/// prelude.lua): its strings as Redis's cjson writes them, a notice's payload as it was sent. Embedded mode's catch-up
/// bound counts these, so a <c>Join(since)</c> gets the same kind of answer in both modes (DESIGN.md §2: missed events
/// whose stored JSON totals more than a connection's outgoing bound are a snapshot). Re-serializing the event would not
/// count alike: System.Text.Json escapes a character beyond the BMP as 12 bytes where cjson keeps its 4, and writes a
/// payload compact where Redis keeps it as sent.
/// </summary>
internal static class StoredEventSize
{
    // append_event's field names and punctuation, without the values.
    private const string Skeleton =
        """{"roomId":,"epoch":,"version":,"type":,"at":,"memberId":,"displayName":,"menuId":,"quantity":,"opId":,"state":,"by":,"kind":,"payload":}""";

    private const int NullBytes = 4;

    public static long Of(RoomEvent e) =>
        Skeleton.Length + Text(e.RoomId) + Text(e.Epoch) + Number(e.Version) + Text(e.Type) + Text(e.At) + Text(e.MemberId)
        + Text(e.DisplayName) + Text(e.MenuId) + Number(e.Quantity) + Text(e.OpId) + Text(e.State) + Text(e.By) + Text(e.Kind)
        + (e.Payload is { } payload ? JsonMarshal.GetRawUtf8Value(payload).Length : NullBytes);

    // cjson.encode: quoted; '"', '\' and '/' escaped as two bytes, and so are \b \f \n \r \t; the other controls and DEL
    // as \u00XX; everything else as its UTF-8.
    private static long Text(string? text)
    {
        if (text is null)
        {
            return NullBytes;
        }

        long bytes = 2 + Encoding.UTF8.GetByteCount(text);
        foreach (var c in text)
        {
            bytes += c switch
            {
                '"' or '\\' or '/' or '\b' or '\f' or '\n' or '\r' or '\t' => 1,
                < ' ' or '\u007f' => 5,
                _ => 0,
            };
        }

        return bytes;
    }

    private static int Number(long? number) => number is { } n ? n.ToString(CultureInfo.InvariantCulture).Length : NullBytes;
}
