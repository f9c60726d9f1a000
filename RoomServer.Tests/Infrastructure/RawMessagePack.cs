using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;
using RoomShare.RoomServer.Hubs.MessagePack;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A hub argument that a MessagePack <see cref="HubTestClient"/> writes as these bytes, as they are: for
/// values no serializer writes, such as a string whose bytes are not UTF-8. Every other argument is
/// written as the server's JsonShapedResolver writes it.
/// </summary>
public sealed record RawMessagePack(byte[] Encoded)
{
    /// <summary>The client's serializer options: JsonShapedResolver's, with this type written raw.</summary>
    public static readonly MessagePackSerializerOptions Options =
        JsonShapedResolver.Options.WithResolver(CompositeResolver.Create([new Formatter()], [JsonShapedResolver.Instance]));

    /// <summary>A MessagePack string (str 8) of these bytes, UTF-8 or not.</summary>
    public static RawMessagePack Str(params byte[] bytes) => new([0xd9, (byte)bytes.Length, .. bytes]);

    private sealed class Formatter : IMessagePackFormatter<RawMessagePack>
    {
        public void Serialize(ref MessagePackWriter writer, RawMessagePack value, MessagePackSerializerOptions options) =>
            writer.WriteRaw(value.Encoded);

        public RawMessagePack Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            throw new NotSupportedException("only ever written");
    }
}
