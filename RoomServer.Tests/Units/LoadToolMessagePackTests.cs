extern alias loadtool;

using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Hubs.MessagePack;
using LeanHubWire = loadtool::RoomShare.LoadTest.Hub.LeanHubWire;
using RoomEventWire = loadtool::RoomShare.LoadTest.Hub.RoomEventWire;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load client's MessagePack reading of <c>RoomEvent</c>s (RoomEventWireFormatter): it must read what the
/// server writes exactly as the shared JSON-shaped resolver does, whatever else the event carries.
/// </summary>
public sealed class LoadToolMessagePackTests
{
    private static readonly MessagePackHubProtocol ServerProtocol =
        new MessagePackHubProtocol(Options.Create(new MessagePackHubProtocolOptions { SerializerOptions = JsonShapedResolver.Options }));

    public static TheoryData<string> Events() => new()
    {
        """{"roomId":"R1","epoch":"e1","version":7,"type":"choice","at":"2026-11-29T22:00:00Z","memberId":"m1","menuId":"pizza","quantity":2,"opId":"op-1"}""",
        """{"roomId":"R1","epoch":"e1","version":8,"type":"choice","at":"2026-11-29T22:00:00Z","memberId":"m1","menuId":"pizza","quantity":0,"opId":null}""",
        """{"opId":"first","type":"choice","version":1099511627776,"roomId":"R-ordered-differently"}""",
        """{"roomId":"R2","epoch":"e2","version":3,"type":"member","at":"x","memberId":"m2","displayName":"Zoë 🍕","nested":{"list":[1,2.5,{"deep":null}],"flag":true}}""",
        """{"roomId":"R3","epoch":"e3","version":4,"type":"state","state":"locked","by":"owner","items":[]}""",
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void ARoomEventReadsAsTheSharedResolverReadsIt(string json)
    {
        var frame = ServerFrame(json);

        var lean = Parse(LeanHubWire.MessagePack.Protocol, frame);
        var shared = Parse(ServerProtocol, frame);

        lean.Should().BeOfType<InvocationMessage>().Which.Arguments.Should().ContainSingle()
            .Which.Should().BeOfType<RoomEventWire>().And.Be(shared.Should().BeOfType<InvocationMessage>().Subject.Arguments[0]);

        // Split into one-byte segments, every key straddles a boundary: the formatter's fallback path.
        Parse(LeanHubWire.MessagePack.Protocol, OneByteSegments(frame)).Should().BeOfType<InvocationMessage>()
            .Which.Arguments[0].Should().Be(((InvocationMessage)lean).Arguments[0]);

        using var expected = JsonDocument.Parse(json);
        var read = (RoomEventWire)((InvocationMessage)lean).Arguments[0]!;
        read.RoomId.Should().Be(expected.RootElement.GetProperty("roomId").GetString());
        read.Version.Should().Be(expected.RootElement.GetProperty("version").GetInt64());
        read.Type.Should().Be(expected.RootElement.GetProperty("type").GetString());
        read.OpId.Should().Be(expected.RootElement.TryGetProperty("opId", out var op) ? op.GetString() : null);
    }

    [Theory]
    [InlineData("""{"version":1,"type":"choice"}""")]
    [InlineData("""{"roomId":"R","type":"choice"}""")]
    [InlineData("""{"roomId":"R","version":1}""")]
    public void AnEventWithoutItsIdentityIsABindingFailureNotAHalfFilledRecord(string json)
    {
        var failure = Parse(LeanHubWire.MessagePack.Protocol, ServerFrame(json)).Should().BeOfType<InvocationBindingFailureMessage>().Subject;

        Messages(failure.BindingFailure.SourceException).Should().Contain(m => m.Contains("without roomId, version or type"));
    }

    private static IEnumerable<string> Messages(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            yield return exception.Message;
        }
    }

    private static ReadOnlyMemory<byte> ServerFrame(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ServerProtocol.GetMessageBytes(new InvocationMessage("RoomEvent", [document.RootElement.Clone()]));
    }

    private static HubMessage Parse(IHubProtocol protocol, ReadOnlyMemory<byte> frame) => Parse(protocol, new ReadOnlySequence<byte>(frame));

    private static HubMessage Parse(IHubProtocol protocol, ReadOnlySequence<byte> data)
    {
        protocol.TryParseMessage(ref data, RoomEventBinder.Instance, out var message).Should().BeTrue();
        data.Length.Should().Be(0);
        return message!;
    }

    private static ReadOnlySequence<byte> OneByteSegments(ReadOnlyMemory<byte> frame)
    {
        var first = new Segment(frame[..1], 0);
        var last = first;
        for (var i = 1; i < frame.Length; i++)
        {
            last = last.Append(frame.Slice(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private sealed class RoomEventBinder : IInvocationBinder
    {
        public static readonly RoomEventBinder Instance = new();

        public IReadOnlyList<Type> GetParameterTypes(string methodName) => [typeof(RoomEventWire)];

        public Type GetReturnType(string invocationId) => typeof(object);

        public Type GetStreamItemType(string streamId) => typeof(object);
    }
}
