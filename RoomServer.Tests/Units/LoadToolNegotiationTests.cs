extern alias loadtool;

using System.Text;
using loadtool::RoomShare.LoadTest.Hub;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// How the load tool's web-client arms read SignalR's negotiate answer: the connection token and whether the
/// server turned stateful reconnect on; a refusal or an answer without a token fails the connect, as it fails
/// the JavaScript client's start.
/// </summary>
public sealed class LoadToolNegotiationTests
{
    [Fact]
    public void AVersionOneAnswerGivesTheTokenAndStatefulReconnect() =>
        Read("""{"negotiateVersion":1,"connectionId":"c1","connectionToken":"t1","useStatefulReconnect":true,"availableTransports":[]}""")
            .Should().Be(new HubNegotiation.Negotiated("t1", true));

    [Fact]
    public void WithoutTheFlagTheConnectionOwesNoAcks() =>
        Read("""{"negotiateVersion":1,"connectionId":"c1","connectionToken":"t1","availableTransports":[]}""")
            .Should().Be(new HubNegotiation.Negotiated("t1", false));

    [Theory]
    [InlineData("""{"error":"Client requested an unsupported protocol version"}""", "negotiate refused: Client requested an unsupported protocol version")]
    [InlineData("""{"negotiateVersion":0,"connectionId":"c1"}""", "no connectionToken")]
    [InlineData("""{"connectionToken":""}""", "no connectionToken")]
    [InlineData("""[]""", "not a JSON object")]
    [InlineData("""<html>502 Bad Gateway</html>""", "not JSON")]
    public void ARefusalOrAnAnswerWithoutATokenFails(string body, string message)
    {
        var read = () => Read(body);
        read.Should().Throw<InvalidDataException>().WithMessage($"*{message}*");
    }

    [Theory]
    [InlineData("ws://127.0.0.1:8080/hubs/room", null, "http://127.0.0.1:8080/hubs/room/negotiate?negotiateVersion=1&useStatefulReconnect=true")]
    [InlineData("wss://rooms.example/hubs/room/", "r 1&x=2", "https://rooms.example/hubs/room/negotiate?negotiateVersion=1&useStatefulReconnect=true&room=r%201%26x%3D2")]
    public void TheNegotiateUrlIsTheHubsOverHttpWithTheRoomHintEscaped(string hub, string? room, string expected) =>
        HubNegotiation.NegotiateUri(new Uri(hub), room).AbsoluteUri.Should().Be(expected);

    private static HubNegotiation.Negotiated Read(string body) => HubNegotiation.Read(Encoding.UTF8.GetBytes(body));
}
