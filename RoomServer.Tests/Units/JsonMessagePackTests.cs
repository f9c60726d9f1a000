using System.Buffers;
using System.Text.Json;
using MessagePack;
using RoomShare.RoomServer.Hubs.MessagePack;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// Numbers across the JSON ⇄ MessagePack bridge (DESIGN.md §3: MessagePack carries exactly the shapes JSON
/// does): a float read from a MessagePack client stays a float, so an integer argument refuses 2.0 as JSON
/// does; a whole number above long's range reaches a MessagePack client exactly, as a uint64. (The other
/// shapes, and what has none, are in JsonShapedMessagePackTests.)
/// </summary>
public sealed class JsonMessagePackTests
{
    [Theory]
    [InlineData(2.0, "2.0")]
    [InlineData(-3.0, "-3.0")]
    [InlineData(2.5, "2.5")]
    [InlineData(1e20, "1E+20")]
    public void AFloatStaysAFloat(double value, string json)
    {
        var element = ReadOne((ref MessagePackWriter writer) => writer.Write(value));

        element.GetRawText().Should().Be(json);
        element.TryGetInt32(out _).Should().BeFalse("an integer argument refuses it, as it refuses JSON's 2.0");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NaNAndTheInfinitiesAreRefused(double value)
    {
        var read = () => ReadOne((ref MessagePackWriter writer) => writer.Write(value));

        read.Should().Throw<MessagePackSerializationException>();
    }

    [Fact]
    public void AWholeNumberAboveLongsRangeIsWrittenExactly()
    {
        using var document = JsonDocument.Parse("{\"n\":18446744073709551615,\"m\":-5,\"x\":0.5}");
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        JsonMessagePack.Write(ref writer, document.RootElement);
        writer.Flush();

        var reader = new MessagePackReader(buffer.WrittenMemory);
        reader.ReadMapHeader().Should().Be(3);
        reader.ReadString().Should().Be("n");
        reader.ReadUInt64().Should().Be(ulong.MaxValue, "not a float64's 18446744073709551616");
        reader.ReadString().Should().Be("m");
        reader.ReadInt64().Should().Be(-5);
        reader.ReadString().Should().Be("x");
        reader.ReadDouble().Should().Be(0.5);
    }

    private delegate void WriteValue(ref MessagePackWriter writer);

    private static JsonElement ReadOne(WriteValue write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        var reader = new MessagePackReader(buffer.WrittenMemory);
        return JsonMessagePack.Read(ref reader);
    }
}
