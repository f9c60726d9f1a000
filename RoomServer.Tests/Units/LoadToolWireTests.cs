extern alias loadtool;

using System.Buffers;
using MessagePack;
using loadtool::RoomShare.LoadTest.Hub;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's MessagePack reader of a <c>RoomEvent</c> takes the fields its books match a delivery by —
/// the room, the version, the type, the opId and the quantity set — and skips the rest (the JSON client reads
/// the same record through System.Text.Json; the quick profile's steps would not settle if it did not).
/// </summary>
public sealed class LoadToolWireTests
{
    [Fact]
    public void ARoomEventIsReadWithItsQuantity()
    {
        var wire = Read((ref MessagePackWriter writer) =>
        {
            writer.WriteMapHeader(7);
            writer.Write("roomId");
            writer.Write("r1");
            writer.Write("epoch");
            writer.Write("e1");
            writer.Write("version");
            writer.Write(12L);
            writer.Write("type");
            writer.Write("choice");
            writer.Write("quantity");
            writer.Write(3);
            writer.Write("opId");
            writer.Write("s1c2");
            writer.Write("menuId");
            writer.Write("pizza");
        });

        wire.Should().Be(new RoomEventWire("r1", 12, "choice", "s1c2", 3));
    }

    [Fact]
    public void AnEventWithoutAQuantityReadsNull()
    {
        var wire = Read((ref MessagePackWriter writer) =>
        {
            writer.WriteMapHeader(4);
            writer.Write("roomId");
            writer.Write("r1");
            writer.Write("version");
            writer.Write(2L);
            writer.Write("type");
            writer.Write("member");
            writer.Write("quantity");
            writer.WriteNil();
        });

        wire.Should().Be(new RoomEventWire("r1", 2, "member", null, null));
    }

    private delegate void WriteEvent(ref MessagePackWriter writer);

    private static RoomEventWire? Read(WriteEvent write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        var reader = new MessagePackReader(buffer.WrittenMemory);
        return RoomEventWireFormatter.Instance.Deserialize(ref reader, MessagePackSerializerOptions.Standard);
    }
}
