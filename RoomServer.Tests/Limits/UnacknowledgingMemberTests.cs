using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// A member on SignalR's stateful reconnect (the web client's default) whose page stops acknowledging while its socket
/// still takes every frame: a phone whose screen went off in a busy room. SignalR keeps each unacknowledged message for
/// a resend; past its buffer it waits for an acknowledgement before any further write, a close included, and a
/// connection closed in that state never finished closing — its disconnect never ran. With RoomShare's bound on that
/// buffer (<see cref="HubExtensions.StatefulReconnectBufferBytes"/>, far above SignalR's 100 000-byte default) the
/// member keeps receiving, and when the replica closes it (here the owner removes it) the close goes through.
/// </summary>
[Trait("Suite", "Limits")]
public sealed class UnacknowledgingMemberTests(EmbeddedLimitsServer server) : IClassFixture<EmbeddedLimitsServer>
{
    /// <summary>What SignalR keeps unacknowledged before it waits for an acknowledgement, by default (HubOptions.StatefulReconnectBufferSize).</summary>
    private const int SignalRDefaultBufferBytes = 100_000;

    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AMemberThatStopsAcknowledgingKeepsReceivingAndARemovalStillClosesIt()
    {
        var room = await server.CreateRoomAsync();
        await using var frozen = await UnackingMember.JoinAsync(server.BaseUrl, await server.TokenAsync(room, "frozen"), room.Id, TimeSpan.FromSeconds(10));

        // Its transport keeps the connection alive, so only the removal below may close it (not a client timeout on a slow box).
        using var stopPinging = new CancellationTokenSource();
        var pinging = PingEverySecondsAsync(frozen, stopPinging.Token);

        // Past SignalR's default buffer of unacknowledged messages, and past the replica's bound for one connection.
        var payload = new string('x', ContractServer.MaxNoticePayloadBytes - 100);
        var notices = ((SignalRDefaultBufferBytes + LimitSettings.MaxPendingBytesPerConnection) / payload.Length) + 10;
        for (var i = 0; i < notices; i++)
        {
            using var response = await server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "load", payload }, ContractServer.Json);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        }

        var flood = (long)notices * payload.Length;
        await Poll.UntilAsync(() => Task.FromResult(frozen.BytesRead >= flood), Within,
            () => $"every notice reaches the member though it acknowledges none ({frozen.BytesRead} of {flood} bytes read)");

        // The replica closes it: its Removed notice and its close are written past the unacknowledged backlog.
        using (var removal = await server.Api.DeleteAsync(new Uri($"/api/rooms/{room.Id}/members/frozen", UriKind.Relative)))
        {
            removal.EnsureSuccessStatusCode();
        }

        (await Task.WhenAny(frozen.CloseMessage, Task.Delay(Within))).Should().BeSameAs(frozen.CloseMessage,
            $"the removed member's connection is closed ({frozen.BytesRead} bytes read, none acknowledged)");
        var close = await frozen.CloseMessage;
        (close.TryGetProperty("allowReconnect", out var again) && again.GetBoolean()).Should().BeFalse("a removal closes for good");
        await frozen.SocketClosed.WaitAsync(Within);
        await stopPinging.CancelAsync();
        await pinging;
    }

    /// <summary>Pings every few seconds until stopped or the connection is gone (bounded by the test's own time).</summary>
    private static async Task PingEverySecondsAsync(UnackingMember member, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await member.PingAsync(stop);
                await Task.Delay(TimeSpan.FromSeconds(5), stop);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped, or the replica closed the connection: either ends the pings.
        }
    }
}
