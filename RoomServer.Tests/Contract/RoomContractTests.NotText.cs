using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// JSON the parser accepts but that is not text: an escaped lone surrogate (<c>"\ud800"</c>) or bytes that
/// are not UTF-8. Such a value fails only when it is read as a string or written out again, so a notice
/// payload that held one broke every later reader of the room (the audit page, a resuming member's
/// missed events, embedded mode's live fan-out). Every one is refused where it comes in, as
/// <c>invalid_argument</c>, and changes nothing (DESIGN.md §5).
/// </summary>
public abstract partial class RoomContractTests
{
    private const string LoneSurrogate = "\"\\ud800\"";

    public static TheoryData<string, string> ArgumentsThatAreNotText => new()
    {
        { "Join", LoneSurrogate + ",null" },
        { "Join", "{room},{\"epoch\":" + LoneSurrogate + ",\"version\":1}" },
        { "Join", "{room},{\"epoch\":\"e\",\"version\":1," + LoneSurrogate + ":0}" }, // a property name: looking up the others unescapes it
        { "Join", "{room},{" + LoneSurrogate + ":0}" },
        { "SetChoice", "{room}," + LoneSurrogate + ",1,null" },
        { "SetChoice", "{room},\"pizza\",1,\"op\\udc00\"" },
        { "AdjustChoice", "{room},\"pizza\",1," + LoneSurrogate },
        { "SetRoomState", "{room}," + LoneSurrogate },
        { "RemoveMember", "{room}," + LoneSurrogate },
    };

    [Theory]
    [MemberData(nameof(ArgumentsThatAreNotText))]
    public async Task AHubArgumentThatIsNotTextIsAnInvalidArgumentAndChangesNothing(string method, string rawArguments)
    {
        var (room, observer) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = observer;
        await using var raw = await Server.ConnectRawAsync(await Server.TokenAsync(room, "oscar", "owner"));
        await raw.InvokeAsync("Join", room.Id, null);
        await observer.Client.NextEventShouldBeAsync(2);

        var call = () => raw.InvokeRawAsync(method, rawArguments.Replace("{room}", "\"" + room.Id + "\"", StringComparison.Ordinal));
        (await call.Should().ThrowAsync<HubErrorException>()).Which.Code.Should().Be("invalid_argument");

        raw.Closed.IsCompleted.Should().BeFalse("a refused argument leaves the connection open");
        await AssertNothingChangedAsync(room, observer, 2);
    }

    public static TheoryData<string> NoticeBodiesThatAreNotText => new()
    {
        "{\"kind\":\"k\",\"payload\":" + LoneSurrogate + "}",
        "{\"kind\":\"k\",\"payload\":{\"a\":[1,{\"b\":\"x\\udfff\"}]}}",
        "{\"kind\":\"k\",\"payload\":{" + LoneSurrogate + ":1}}",
        "{\"kind\":\"k\",\"payload\":" + new string('[', 33) + "1" + new string(']', 33) + "}",
        "{\"kind\":\"k\",\"payload\":{\"n\":1e400}}",
        "{\"kind\":\"k\",\"payload\":[1,-2.5e309]}",
    };

    [Theory]
    [MemberData(nameof(NoticeBodiesThatAreNotText))]
    public async Task ANoticePayloadThatCouldNotBeWrittenOutAgainIsAnInvalidArgumentAndTheRoomStaysReadable(string body)
    {
        await NoticeIsRefusedAndChangesNothingAsync(Encoding.UTF8.GetBytes(body));
    }

    [Fact]
    public async Task ANoticePayloadThatIsNotUtf8IsAnInvalidArgument()
    {
        byte[] body = [.. "{\"kind\":\"k\",\"payload\":\""u8, 0xFF, 0xFE, .. "\"}"u8];
        await NoticeIsRefusedAndChangesNothingAsync(body);
    }

    [Fact]
    public async Task ANoticePayloadNestedThirtyTwoArraysAndObjectsDeepIsStillTaken()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        using var content = new StringContent("{\"kind\":\"k\",\"payload\":" + new string('[', 31) + "{\"a\":1}" + new string(']', 31) + "}", Encoding.UTF8, "application/json");

        (await Server.Api.PostAsync($"/api/rooms/{room.Id}/notices", content)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await ann.Client.NextEventShouldBeAsync(2)).Payload!.Value.GetArrayLength().Should().Be(1);
        using var audit = await Server.Api.GetAsync($"/api/rooms/{room.Id}/events");
        audit.StatusCode.Should().Be(HttpStatusCode.OK, "the audit page writes the payload a few levels deeper than it came");
    }

    [Fact]
    public async Task ANoticePayloadWithNumbersAt64BitLimitsIsTakenAsWritten()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        const string payload = "[18446744073709551615,-9223372036854775808,1.5e308,-1.5e-320]";
        using var content = new StringContent("{\"kind\":\"k\",\"payload\":" + payload + "}", Encoding.UTF8, "application/json");

        (await Server.Api.PostAsync($"/api/rooms/{room.Id}/notices", content)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await ann.Client.NextEventShouldBeAsync(2)).Payload!.Value.GetRawText().Should().Be(payload, "a JSON member gets the payload's own text");
    }

    private async Task NoticeIsRefusedAndChangesNothingAsync(byte[] body)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await Server.Api.PostAsync($"/api/rooms/{room.Id}/notices", content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("invalid_argument");
        using var audit = await Server.Api.GetAsync($"/api/rooms/{room.Id}/events");
        audit.StatusCode.Should().Be(HttpStatusCode.OK, "the room's trail stays readable");
        await AssertNothingChangedAsync(room, ann, 1);
    }
}
