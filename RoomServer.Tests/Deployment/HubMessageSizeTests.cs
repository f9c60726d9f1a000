using Microsoft.AspNetCore.Http.Connections;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// <c>RoomServer__Limits__MaxHubMessageBytes</c> holds on every transport (DESIGN.md §6): its largest setting is the
/// HTTP body limit, because a long-polling client's messages are POST bodies and Kestrel cuts those there.
/// Against a real replica process, since an in-process test server has no Kestrel body limit.
/// </summary>
public sealed class HubMessageSizeTests
{
    private const int Largest = LimitOptions.MaxRequestBodyBytes;

    [Fact]
    public async Task AtTheLargestSettingAMessageNearItReachesTheHubOverLongPolling()
    {
        await using var server = await StartAtTheLargestLimitAsync();
        var (room, token) = await RoomAndTokenAsync(server);
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, token, o =>
        {
            o.Negotiate = true;
            o.ConfigureHttp = http => http.Transports = HttpTransportType.LongPolling;
        });

        // ~250 KB of JSON, under the limit: the hub reads it and answers it (a room id that long is invalid).
        var join = () => client.InvokeAsync("Join", new string('r', Largest - 6_000), null);

        (await join.Should().ThrowAsync<HubErrorException>()).Which.Code.Should().Be("invalid_argument");
        (await client.InvokeAsync<JoinResult>("Join", room, null)).Position.Version.Should().Be(1, "the connection goes on");
    }

    [Fact]
    public async Task OverTheLimitAWebSocketMessageClosesTheConnection()
    {
        await using var server = await StartAtTheLargestLimitAsync();
        var (room, token) = await RoomAndTokenAsync(server);
        await using var client = await HubTestClient.ConnectAsync(server.BaseUrl, token);

        _ = client.InvokeAsync("Join", new string('r', Largest + 1), null);

        var closed = await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        closed.Should().NotBeNull("a message over the limit closes the connection with an error");
    }

    private static Task<RoomServerProcess> StartAtTheLargestLimitAsync() => RoomServerProcess.StartAsync(
        SecurityTestServer.Settings(("RoomServer__Limits__MaxHubMessageBytes", Largest.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    private static async Task<(string Room, string Token)> RoomAndTokenAsync(RoomServerProcess server)
    {
        using var api = SecurityTestServer.Api(server);
        var room = await SecurityTestServer.CreateRoomAsync(api);
        return (room, await SecurityTestServer.TokenAsync(api, room, "ann"));
    }
}
