using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

/// <summary>The official client as the suites use it, against the kit hub.</summary>
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
        error.InnerException.Should().BeOfType<HubException>("the official client's own exception is kept");
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
    public async Task EverythingSentBeforeAResultIsRecordedWhenTheInvokeReturns()
    {
        // HubConnection runs handlers on another loop than completions; without the barrier this reads short.
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");

        for (var round = 1; round <= 20; round++)
        {
            await client.InvokeAsync("Push", 50);

            client.Received("RoomEvent").Should().HaveCount(50 * round, $"the 50 events of round {round} were sent before its result");
        }
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
    public async Task EveryServerToClientTargetOfTheContractIsRecordedAndMoreCanBeAdded()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token", o => o.AddTarget("Pair", 2));

        foreach (var target in HubTestClientOptions.RoomTargets)
        {
            await client.InvokeAsync("Send", target, 1);
            (await client.NextAsync(target)).GetProperty("target").GetString().Should().Be(target);
        }

        await client.InvokeAsync("Send", "Pair", 2);
        (await client.NextAsync("Pair")).GetRawText().Should().Be("""[{"target":"Pair","index":0},{"target":"Pair","index":1}]""");
        HubTestClientOptions.RoomTargets.Should().Equal("RoomEvent", "Position", "Presence", "Removed", "Announcement");
    }

    [Fact]
    public async Task ATargetThatIsNotRecordedFailsNamingHowToAddIt()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");

        var act = () => client.NextAsync("Elsewhere");

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("'Elsewhere'").And.Contain("AddTarget");
    }

    [Fact]
    public async Task ARefusedConnectThrowsWithTheHttpStatus()
    {
        var act = () => HubTestClient.ConnectAsync(server.BaseUrl, accessToken: null);

        var error = (await act.Should().ThrowAsync<HubConnectException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        error.Message.Should().Contain("401");
    }

    [Fact]
    public async Task ARefusedNegotiateThrowsWithTheHttpStatus()
    {
        var act = () => HubTestClient.ConnectAsync(server.BaseUrl, accessToken: null, o => o.Negotiate = true);

        var error = (await act.Should().ThrowAsync<HubConnectException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        error.Message.Should().Contain("401");
    }

    [Fact]
    public async Task WithNegotiationItConnectsOverWebSockets()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token", o => o.Negotiate = true);

        (await client.InvokeAsync("Echo", "negotiated")).GetString().Should().Be("negotiated");
        client.Connection.ConnectionId.Should().NotBeNullOrEmpty("only a negotiated connection has an id");
    }

    [Fact]
    public async Task AHandshakeErrorThrowsWithTheServersMessage()
    {
        var act = () => HubTestClient.ConnectAsync(server.BaseUrl, "token", o => o.Path = "/raw?mode=reject");

        (await act.Should().ThrowAsync<HubConnectException>()).Which.Message.Should().Contain("is not available");
    }

    [Fact]
    public async Task ADroppedConnectionFailsItsInvocationsCompletesClosedAndDoesNotReconnect()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");

        var act = () => client.InvokeAsync("Drop");

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("'Drop'");
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        client.Connection.State.Should().Be(HubConnectionState.Disconnected, "automatic reconnect is off unless a test asks for it");
        var afterClose = () => client.NextAsync("RoomEvent");
        await afterClose.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task ACloseWithAnErrorCompletesClosedAfterWhatCameBeforeItIsRecorded()
    {
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token", o => o.Path = "/raw");

        (await client.Closed.WaitAsync(TimeSpan.FromSeconds(10))).Should().Contain("bye");
        client.Received("RoomEvent").Select(e => e.GetProperty("v").GetInt32()).Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task DisposeClosesCleanlyAndTwiceIsHarmless()
    {
        var client = await HubTestClient.ConnectAsync(server.BaseUrl, "token");

        await client.DisposeAsync();
        await client.DisposeAsync();

        (await client.Closed.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeNull();
    }
}
