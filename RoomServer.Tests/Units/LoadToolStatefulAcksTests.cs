extern alias loadtool;

using loadtool::RoomShare.LoadTest.Hub;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's web-client connections ack what SignalR's server numbers: invocation messages (calls,
/// completions, stream items) from 1; pings, acks, sequence and close messages are not numbered. An ack past what
/// the server sent would free messages it still owes; one short of it would hold them, and the server stops writing
/// at 100 KB held.
/// </summary>
public sealed class LoadToolStatefulAcksTests
{
    [Fact]
    public void OnlyInvocationMessagesAreNumbered()
    {
        var acks = new StatefulAcks();
        HubMessage[] received =
        [
            new InvocationMessage("RoomEvent", []),
            PingMessage.Instance,
            CompletionMessage.WithResult("j", null),
            new AckMessage(3),
            new StreamItemMessage("s1", null),
            new SequenceMessage(1),
            CloseMessage.Empty,
            new InvocationMessage("Position", []),
        ];
        foreach (var message in received)
        {
            acks.OnReceived(message);
        }

        acks.TryTakeDue(out var through).Should().BeTrue("four invocation messages came");
        through.Should().Be(4, "the call, the completion, the stream item and the second call; not the ping, ack, sequence or close");
        acks.ServerAcks.Should().Be(1, "the server's own ack is counted apart");
    }

    [Fact]
    public void AnAckIsDueOnlyForWhatCameSinceTheLastOne()
    {
        var acks = new StatefulAcks();
        acks.TryTakeDue(out _).Should().BeFalse("nothing came yet");

        acks.OnReceived(new InvocationMessage("RoomEvent", []));
        acks.TryTakeDue(out var first).Should().BeTrue();
        first.Should().Be(1);
        acks.AckedThrough.Should().Be(1);
        acks.TryTakeDue(out _).Should().BeFalse("nothing new since the ack");

        acks.OnReceived(PingMessage.Instance);
        acks.TryTakeDue(out _).Should().BeFalse("a ping is not acked");

        acks.OnReceived(new InvocationMessage("RoomEvent", []));
        acks.OnReceived(new InvocationMessage("RoomEvent", []));
        acks.TryTakeDue(out var second).Should().BeTrue();
        second.Should().Be(3, "an ack covers everything received so far");
    }
}
