using System.Buffers;
using System.Net.WebSockets;
using MessagePack;
using MessagePack.Formatters;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Hubs.MessagePack;

namespace RoomShare.LoadTest.Hub;

/// <summary>
/// A hub protocol the lean client speaks, with what goes with it on a WebSocket: the frame type and
/// the handshake. JSON is the framework's JsonHubProtocol; MessagePack the official
/// MessagePackHubProtocol, reading room events field by field (<see cref="RoomEventWireFormatter"/>) and
/// the rest with RoomServer's own JsonShapedResolver (the file is linked, not copied), so both read the
/// same camelCase shapes.
/// </summary>
public sealed class LeanHubWire
{
    public static readonly LeanHubWire Json = new(new JsonHubProtocol(), WebSocketMessageType.Text);

    public static readonly LeanHubWire MessagePack = new(
        new MessagePackHubProtocol(Options.Create(new MessagePackHubProtocolOptions { SerializerOptions = LeanResolver.Options })),
        WebSocketMessageType.Binary);

    private LeanHubWire(IHubProtocol protocol, WebSocketMessageType frames)
    {
        Protocol = protocol;
        Frames = frames;
        PingFrame = protocol.GetMessageBytes(PingMessage.Instance);
        var writer = new ArrayBufferWriter<byte>();
        HandshakeProtocol.WriteRequestMessage(new HandshakeRequestMessage(protocol.Name, protocol.Version), writer);
        HandshakeFrame = writer.WrittenMemory;
    }

    public IHubProtocol Protocol { get; }

    /// <summary>Text for JSON, binary for MessagePack.</summary>
    public WebSocketMessageType Frames { get; }

    public ReadOnlyMemory<byte> PingFrame { get; }

    /// <summary>The handshake is JSON text whatever the protocol.</summary>
    public ReadOnlyMemory<byte> HandshakeFrame { get; }

    /// <summary>
    /// What the load client does not read it skips unparsed; room events (most of what it receives) it reads
    /// directly; the rest (the Join result) goes through RoomServer's resolver.
    /// </summary>
    private sealed class LeanResolver : IFormatterResolver
    {
        public static readonly MessagePackSerializerOptions Options =
            MessagePackSerializerOptions.Standard.WithResolver(new LeanResolver()).WithSecurity(MessagePackSecurity.UntrustedData);

        public IMessagePackFormatter<T>? GetFormatter<T>() =>
            typeof(T) == typeof(IgnoredWire) ? (IMessagePackFormatter<T>)(object)SkipFormatter.Instance
            : typeof(T) == typeof(RoomEventWire) ? (IMessagePackFormatter<T>)(object)RoomEventWireFormatter.Instance
            : JsonShapedResolver.Instance.GetFormatter<T>();
    }

    private sealed class SkipFormatter : IMessagePackFormatter<IgnoredWire?>
    {
        public static readonly SkipFormatter Instance = new();

        public void Serialize(ref MessagePackWriter writer, IgnoredWire? value, MessagePackSerializerOptions options) => writer.WriteNil();

        public IgnoredWire? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            reader.Skip();
            return null;
        }
    }
}
