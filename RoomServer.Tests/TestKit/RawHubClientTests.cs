using System.Net;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

/// <summary>What the raw client is still for: misbehaving on the wire and seeing exactly how the server reacts.</summary>
public sealed class RawHubClientTests(KitHubServer server) : IClassFixture<KitHubServer>
{
    [Fact]
    public async Task InvokeReturnsTheResultAndAServerErrorCarriesItsCode()
    {
        await using var client = await RawHubClient.ConnectAsync(server.BaseUrl, "token");

        (await client.InvokeAsync<KitResult>("Add", 1, 1)).Should().Be(new KitResult(2, "sum"));
        var act = () => client.InvokeAsync("Fail");
        (await act.Should().ThrowAsync<HubErrorException>()).Which.Code.Should().Be("room_locked");
        await client.InvokeAsync("Push", 2);
        client.Received("RoomEvent").Select(e => e.GetProperty("version").GetInt32()).Should().Equal(1, 2);
    }

    [Fact]
    public async Task ARefusedUpgradeThrowsWithTheHttpStatus()
    {
        var act = () => RawHubClient.ConnectAsync(server.BaseUrl, accessToken: null);

        var error = (await act.Should().ThrowAsync<HubConnectException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        error.Message.Should().Contain("401");
    }

    [Fact]
    public async Task AHandshakeErrorThrowsWithTheServersMessage()
    {
        var act = () => RawHubClient.ConnectAsync(server.BaseUrl, "token", path: "/raw?mode=reject");

        (await act.Should().ThrowAsync<HubConnectException>()).Which.Message.Should().Contain("is not available");
    }

    [Fact]
    public async Task RecordsSharingOrSplittingFramesAreParsedAndACloseMessageEndsTheConnection()
    {
        await using var client = await RawHubClient.ConnectAsync(server.BaseUrl, "token", path: "/raw");

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
        await using var client = await RawHubClient.ConnectAsync(server.BaseUrl, "token");
        var pending = client.InvokeAsync("Hang");

        await client.SendRawAsync("{not json\u001e");

        (await client.Closed.WaitAsync(TimeSpan.FromSeconds(10))).Should().NotBeNull();
        (await pending.Invoking(p => p).Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("'Hang'");
    }
}
