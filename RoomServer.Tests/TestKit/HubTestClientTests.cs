using System.Net;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

public sealed class HubTestClientTests(KitHubServer server) : IClassFixture<KitHubServer>
{
    [Fact]
    public async Task InvokeReturnsTheResultAsJson()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");

        (await client.InvokeAsync("Echo", "hé")).GetString().Should().Be("hé");
        (await client.InvokeAsync("Add", 2, 3)).GetProperty("value").GetInt32().Should().Be(5);
        (await client.InvokeAsync<KitResult>("Add", 1, 1)).Should().Be(new KitResult(2, "sum"));
        (await client.InvokeAsync("Nothing")).ValueKind.Should().Be(JsonValueKind.Null, "SignalR completes a Task method with a null result");
    }

    [Fact]
    public async Task AServerErrorThrowsHubErrorExceptionWithItsCode()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");

        var act = () => client.InvokeAsync("Fail");

        var error = (await act.Should().ThrowAsync<HubErrorException>()).Which;
        error.Code.Should().Be("room_locked");
        error.ErrorText.Should().Be("room_locked: the room is locked");
        error.Message.Should().Be("An unexpected error occurred invoking 'Fail' on the server. HubException: room_locked: the room is locked");
        (await client.InvokeAsync("Echo", "still connected")).GetString().Should().Be("still connected");
    }

    [Fact]
    public async Task PushedEventsArriveInOrder()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");

        await client.InvokeAsync("Push", 3);

        for (var version = 1; version <= 3; version++)
        {
            (await client.NextAsync("RoomEvent")).GetProperty("version").GetInt32().Should().Be(version);
        }

        client.TryRead("RoomEvent", out _).Should().BeFalse();
        client.Received("RoomEvent").Select(e => e.GetProperty("version").GetInt32()).Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task WaitForSkipsNonMatchingEvents()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");
        await client.InvokeAsync("Push", 4);

        var third = await client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt32() == 3);

        third.GetProperty("version").GetInt32().Should().Be(3);
        (await client.NextAsync("RoomEvent")).GetProperty("version").GetInt32().Should().Be(4);
    }

    [Fact]
    public async Task NextAsyncTimesOutNamingTheTargetAndWhatArrived()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");
        await client.InvokeAsync("Push", 1);
        await client.NextAsync("RoomEvent");

        var act = () => client.NextAsync("RoomEvent", TimeSpan.FromMilliseconds(200));

        (await act.Should().ThrowAsync<TimeoutException>()).Which.Message
            .Should().Contain("'RoomEvent'").And.Contain("1 received").And.Contain("\"version\":1");
    }

    [Fact]
    public async Task ARefusedUpgradeThrowsWithTheHttpStatus()
    {
        var act = () => HubTestClient.ConnectAsync(server.BaseUrl, accessToken: null);

        var error = (await act.Should().ThrowAsync<HubConnectException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        error.Message.Should().Contain("401");
    }

    [Fact]
    public async Task AHandshakeErrorThrowsWithTheServersMessage()
    {
        var act = () => HubTestClient.ConnectAsync(server.BaseUrl, "token", path: "/raw?mode=reject");

        (await act.Should().ThrowAsync<HubConnectException>()).Which.Message.Should().Contain("is not available");
    }

    [Fact]
    public async Task RecordsSharingOrSplittingFramesAreParsedAndACloseMessageEndsTheConnection()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token", path: "/raw");

        (await client.Closed.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("bye");
        client.Received("RoomEvent").Select(e => e.GetProperty("v").GetInt32()).Should().Equal(1, 2, 3);
        client.Received("Pair").Should().ContainSingle().Which.GetRawText().Should().Be("[\"a\",2]");
        client.Received("Bare").Should().ContainSingle().Which.GetRawText().Should().Be("[]");
        var afterClose = () => client.NextAsync("Position");
        (await afterClose.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("bye");
    }

    [Fact]
    public async Task AMalformedFrameClosesTheConnectionAndFailsPendingInvocations()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");
        var pending = client.InvokeAsync("Hang");

        await client.SendRawAsync("{not json\u001e");

        (await client.Closed.WaitAsync(TimeSpan.FromSeconds(10))).Should().NotBeNull();
        (await pending.Invoking(p => p).Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("'Hang'");
    }
}
