using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// A room message as SignalR frames, made once per message for all of a room's connections. For the
/// JSON protocol the frame is written around the channel's JSON as it arrived —
/// <c>{"type":1,"target":T,"arguments":[JSON]}</c> + the record separator, exactly what
/// JsonHubProtocol writes — so the event is never parsed nor re-serialized on this path. MessagePack
/// gets the message parsed once and converted by SignalR through JsonShapedResolver, also once per
/// message for all its connections (SerializedHubMessage caches each protocol's bytes).
/// </summary>
internal sealed class RoomFrames(string target, ReadOnlyMemory<byte> json)
{
    private const string JsonProtocol = "json";
    private const byte RecordSeparator = 0x1e;
    private static readonly byte[] Suffix = [(byte)']', (byte)'}', RecordSeparator];

    private SerializedHubMessage? _json;
    private SerializedHubMessage? _other;

    public SerializedHubMessage For(IHubProtocol protocol) =>
        protocol.Name == JsonProtocol
            ? _json ??= new SerializedHubMessage([new SerializedMessage(JsonProtocol, JsonFrame())])
            : _other ??= new SerializedHubMessage(new InvocationMessage(target, [Parsed()]));

    // A clone outlives its document, whose pooled buffer goes back at once.
    private JsonElement Parsed()
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    // One per client method (RoomClientMethods), made once: building it per message was ~2 % of a replica's allocation.
    private static readonly ConcurrentDictionary<string, byte[]> Prefixes = new(StringComparer.Ordinal);

    private byte[] JsonFrame()
    {
        var prefix = Prefixes.GetOrAdd(target, t => Encoding.UTF8.GetBytes("{\"type\":1,\"target\":\"" + t + "\",\"arguments\":["));
        var frame = new byte[prefix.Length + json.Length + Suffix.Length];
        prefix.CopyTo(frame, 0);
        json.Span.CopyTo(frame.AsSpan(prefix.Length));
        Suffix.CopyTo(frame, prefix.Length + json.Length);
        return frame;
    }
}
