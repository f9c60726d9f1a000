using System.Text.Json;
using System.Text.Json.Nodes;

namespace RoomShare.RoomServer.Tests.Contract.Parity;

/// <summary>
/// Makes one server's answer comparable with the other's: what may differ between two servers that behave
/// alike — clock readings (<c>at</c>), the room's id and epoch (random per room), a replica's name, a problem's
/// trace id — is replaced by a placeholder or dropped; everything else is kept as sent, key order included.
/// Presence (<c>online</c>, <c>presenceSeq</c>) runs on a clock (a member stays online for a grace after leaving),
/// so it is dropped here and compared apart, once both sides have settled (<see cref="ParitySide.PresenceAsync"/>).
/// </summary>
internal static class ParityJson
{
    private static readonly HashSet<string> Dropped = new(StringComparer.Ordinal) { "at", "replica", "traceId", "online", "presenceSeq" };

    public static string Normalize(JsonElement element, string roomId, string epoch) =>
        Normalize(JsonNode.Parse(element.GetRawText()), roomId, epoch);

    public static string Normalize(string json, string roomId, string epoch)
    {
        if (json.Length == 0)
        {
            return "(empty)";
        }

        try
        {
            return Normalize(JsonNode.Parse(json), roomId, epoch);
        }
        catch (JsonException)
        {
            return Replace(json, roomId, epoch);
        }
    }

    private static string Normalize(JsonNode? node, string roomId, string epoch)
    {
        Scrub(node, roomId, epoch);
        return node?.ToJsonString() ?? "null";
    }

    private static void Scrub(JsonNode? node, string roomId, string epoch)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).Where(Dropped.Contains).ToList())
                {
                    obj.Remove(key);
                }

                foreach (var (key, child) in obj.ToList())
                {
                    if (child is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        obj[key] = Replace(text, roomId, epoch);
                    }
                    else
                    {
                        Scrub(child, roomId, epoch);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        array[i] = Replace(text, roomId, epoch);
                    }
                    else
                    {
                        Scrub(array[i], roomId, epoch);
                    }
                }

                break;
        }
    }

    private static string Replace(string text, string roomId, string epoch) =>
        text.Replace(roomId, "<room>", StringComparison.Ordinal).Replace(epoch, "<epoch>", StringComparison.Ordinal);
}
