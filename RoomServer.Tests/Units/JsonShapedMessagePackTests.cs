using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;
using RoomShare.RoomServer.Hubs.MessagePack;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>The MessagePack hub protocol carries the JSON contract's shapes, both ways, and refuses what has none.</summary>
public sealed class JsonShapedMessagePackTests
{
    private static readonly MessagePackSerializerOptions Options = JsonShapedResolver.Options;

    [Fact]
    public void AJsonValueRoundTripsUnchanged()
    {
        const string json = """{"roomId":"r1","version":9007199254740993,"price":11.5,"neg":-3,"ok":true,"none":null,"name":"Crème brûlée 🍮","items":[1,"two",[3],{"four":4}]}""";
        var element = JsonDocument.Parse(json).RootElement;

        var bytes = MessagePackSerializer.Serialize(element, Options);
        var back = MessagePackSerializer.Deserialize<JsonElement>(bytes, Options);

        JsonNode.DeepEquals(JsonNode.Parse(back.GetRawText()), JsonNode.Parse(json)).Should().BeTrue(back.GetRawText());
    }

    [Fact]
    public void ARecordIsWrittenWithTheJsonContractsCamelCaseNames()
    {
        var bytes = MessagePackSerializer.Serialize(new RoomPosition("e1", 7), Options);

        var asJson = MessagePackSerializer.ConvertToJson(bytes);
        asJson.Should().Be("""{"epoch":"e1","version":7}""");
        MessagePackSerializer.Deserialize<RoomPosition>(bytes, Options).Should().Be(new RoomPosition("e1", 7));
    }

    [Fact]
    public void NestingPastTheLimitIsRefused()
    {
        var deep = new string('[', 100) + new string(']', 100);
        var bytes = MessagePackSerializer.ConvertFromJson(deep);

        var read = () => MessagePackSerializer.Deserialize<JsonElement>(bytes, Options);

        read.Should().Throw<MessagePackSerializationException>();
    }

    [Fact]
    public void AMapWithANonStringKeyIsRefused()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(1);
        writer.Write(1);
        writer.Write("one");
        writer.Flush();

        var read = () => MessagePackSerializer.Deserialize<JsonElement>(buffer.WrittenMemory, Options);

        read.Should().Throw<MessagePackSerializationException>();
    }

    [Fact]
    public void BinaryHasNoJsonShapeAndIsRefusedNotReadAsNull()
    {
        // Null is a valid opId ("none") and a valid since (a fresh join): a binary opId read as null lost its
        // retries' idempotency. Refused, it is invalid_argument at the hub (the contract suite's MessagePack test).
        var bytes = MessagePackSerializer.Serialize(new byte[] { 1, 2, 3 }, MessagePackSerializerOptions.Standard);

        var read = () => MessagePackSerializer.Deserialize<JsonElement>(bytes, Options);

        read.Should().Throw<MessagePackSerializationException>().WithInnerException<MessagePackSerializationException>()
            .WithMessage("*Binary*not one of the contract's shapes*");
    }

    /// <summary>
    /// A MessagePack string is UTF-8 text; bytes that are not (here a lone surrogate encoded as UTF-8 would
    /// encode it, and a stray 0xFF) are not text, as JSON's escaped "\ud800" is not: refused, so the hub
    /// answers invalid_argument for both protocols (DESIGN §3), instead of reading U+FFFD — a menu id that
    /// was then "not on the menu", a since epoch that was then merely stale.
    /// </summary>
    [Theory]
    [InlineData(false, new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(false, new byte[] { 0x61, 0xFF })]
    [InlineData(true, new byte[] { 0xED, 0xA0, 0x80 })]
    public void AStringThatIsNotUtf8IsRefusedNotReadWithReplacementCharacters(bool asMapKey, byte[] utf8)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        if (asMapKey)
        {
            writer.WriteMapHeader(1);
            writer.WriteString(utf8);
            writer.Write(1);
        }
        else
        {
            writer.WriteString(utf8);
        }

        writer.Flush();

        var read = () => MessagePackSerializer.Deserialize<JsonElement>(buffer.WrittenMemory, Options);

        read.Should().Throw<MessagePackSerializationException>();
    }
}
