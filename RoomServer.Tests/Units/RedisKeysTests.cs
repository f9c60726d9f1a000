using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>Pins the key and channel shapes of DESIGN.md §2: changing them strands existing rooms.</summary>
public sealed class RedisKeysTests
{
    [Fact]
    public void EveryKeyOfARoomSharesTheRoomsHashTagInTheScriptsOrder() =>
        RedisKeys.ForRoom("AbC_1-2").Select(k => k.ToString()).Should().Equal(
            "rs:{AbC_1-2}:meta",
            "rs:{AbC_1-2}:choices",
            "rs:{AbC_1-2}:members",
            "rs:{AbC_1-2}:history",
            "rs:{AbC_1-2}:presence",
            "rs:{AbC_1-2}:ops",
            "rs:{AbC_1-2}:oplog",
            "rs:{AbC_1-2}:audit",
            "rs:{AbC_1-2}:rate");

    [Fact]
    public void TheRoomChannelIsLiteral()
    {
        var channel = RedisKeys.Events("r1");
        channel.ToString().Should().Be("rs:{r1}:events");
        channel.Should().Be(new StackExchange.Redis.RedisChannel("rs:{r1}:events", StackExchange.Redis.RedisChannel.PatternMode.Literal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a}b")]
    [InlineData("a:b")]
    [InlineData("room*")]
    [InlineData("a b")]
    public void AKeyIsNeverBuiltFromAnInvalidRoomId(string roomId)
    {
        var build = () => RedisKeys.ForRoom(roomId);
        build.Should().Throw<RoomException>().Which.Code.Should().Be("invalid_argument");
    }
}
