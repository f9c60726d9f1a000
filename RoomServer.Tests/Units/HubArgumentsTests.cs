using System.Text.Json;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

public sealed class HubArgumentsTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Theory]
    [InlineData("null", null, null)]
    [InlineData("""{"epoch":"e1","version":0}""", "e1", 0L)]
    [InlineData("""{"epoch":"e1","version":42,"extra":true}""", "e1", 42L)]
    public void SinceAcceptsNullOrAPosition(string json, string? epoch, long? version) =>
        HubArguments.Since(Json(json)).Should().Be(epoch is null ? null : new RoomPosition(epoch, version!.Value));

    [Theory]
    [InlineData("""{"epoch":"e1"}""")]
    [InlineData("""{"version":1}""")]
    [InlineData("""{"epoch":"","version":1}""")]
    [InlineData("""{"epoch":"e","version":1.5}""")]
    [InlineData("""{"epoch":"e","version":"1"}""")]
    [InlineData("[]")]
    [InlineData("7")]
    public void SinceRejectsAnythingElseAsInvalidArgument(string json)
    {
        var parse = () => HubArguments.Since(Json(json));
        parse.Should().Throw<RoomException>().Which.Code.Should().Be("invalid_argument");
    }

    [Theory]
    [InlineData("3", 3, null)]
    [InlineData("-3", -3, null)]
    [InlineData("2.5", 0, "invalid_quantity")]
    [InlineData("3000000000", int.MaxValue, null)]
    [InlineData("-3000000000", int.MinValue, null)]
    [InlineData("100000000000000000000000000000", int.MaxValue, null)]
    [InlineData("3e9", 0, "invalid_quantity")]
    [InlineData("-2.5e10", 0, "invalid_quantity")]
    [InlineData("\"3\"", 0, "invalid_argument")]
    [InlineData("null", 0, "invalid_argument")]
    public void WholeNumbersAreReadAndEverythingElseHasACode(string json, int expected, string? code)
    {
        var parse = () => HubArguments.WholeNumber(Json(json), "quantity");
        if (code is null)
        {
            parse().Should().Be(expected);
        }
        else
        {
            parse.Should().Throw<RoomException>().Which.Code.Should().Be(code);
        }
    }

    [Theory]
    [InlineData("null", null)]
    [InlineData("\"op-1:x\"", "op-1:x")]
    public void OpIdIsNullOrPrintableAscii(string json, string? expected) =>
        HubArguments.OpId(Json(json)).Should().Be(expected);

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"with space\"")]
    [InlineData("12")]
    public void OtherOpIdsAreInvalid(string json)
    {
        var parse = () => HubArguments.OpId(Json(json));
        parse.Should().Throw<RoomException>().Which.Code.Should().Be("invalid_argument");
    }
}
