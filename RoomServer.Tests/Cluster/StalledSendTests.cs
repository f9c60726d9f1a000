using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// A member that keeps pinging but reads nothing, in a quiet room (DESIGN.md §9 "Slow consumers"). Announcements
/// travel on SignalR's Redis backplane, which writes each one to every local connection and awaits those writes
/// before it takes the next: once this member's socket is full, every later announcement waits on its replica.
/// Its room messages never reach the byte bound, and SignalR's client timeout never fires while it pings; what
/// closes it is the transport's send timeout (<see cref="HubExtensions.TransportSendTimeout"/>): one send to its
/// socket that takes that long.
/// </summary>
[Trait("Suite", "Cluster")]
public sealed class StalledSendTests(StalledSendTests.StalledSendCluster cluster, ITestOutputHelper output) : IClassFixture<StalledSendTests.StalledSendCluster>
{
    private const int AnnouncementLength = 40_000;

    [Fact]
    public async Task AMemberThatPingsButReadsNothingIsDroppedOnceItsSendsStallAndLaterAnnouncementsGoOut()
    {
        var replica = cluster.Replicas[0];
        var room = await cluster.CreateRoomAsync();
        await using var reader = await HubTestClient.ConnectAsync(replica.BaseUrl, await cluster.TokenAsync(room, "reader"));
        (await reader.InvokeAsync<JoinResult>("Join", room.Id, null)).Replica.Should().Be(replica.ReplicaId);
        await using var slow = await SlowMember.JoinAsync(replica.BaseUrl, await cluster.TokenAsync(room, "slow"), room.Id, TimeSpan.FromSeconds(10));
        using var stopPinging = new CancellationTokenSource();
        var pinging = PingEverySecondAsync(slow, stopPinging.Token);
        try
        {
            // More than the kernel's send buffer (at most tcp_wmem's maximum) and SignalR's and Kestrel's pipes take
            // off the replica's hands: the slow member's writes back up behind its 4 KB receive window.
            var flood = (int)((TcpQueues.MaxSendBufferBytes() + (1024 * 1024)) / AnnouncementLength) + 1;
            var text = new string('x', AnnouncementLength - 10);
            for (var i = 0; i < flood; i++)
            {
                await AnnounceAsync(string.Create(CultureInfo.InvariantCulture, $"{i:00000}{text}"));
            }

            var backedUp = TcpQueues.Of(replica.Port, slow.LocalPort);
            backedUp.Should().NotBeNull().And.Match<(long Send, long Receive)?>(q => q!.Value.Send > 0, "the slow member's socket is full: the replica's writes to it wait");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await AnnounceAsync("after the flood");

            // At most the send timeout, the close, and slack for a loaded box (CI runs every class at once on 2 cores).
            var arrival = HubExtensions.TransportSendTimeout + TimeSpan.FromSeconds(20);
            // Polled rather than awaited with WaitForAsync, whose timeout message would quote every 40 KB announcement.
            await Poll.UntilAsync(() => Task.FromResult(reader.Received("Announcement").Any(a => a.GetProperty("message").GetString() == "after the flood")), arrival,
                "the announcement after the flood reaches the reader once the stalled member is gone");
            var heldFor = clock.Elapsed;
            await Poll.UntilAsync(() => Task.FromResult(TcpQueues.Of(replica.Port, slow.LocalPort) is null), arrival,
                "the replica closes the stalled member's connection");
            output.WriteLine($"{flood} announcements of {AnnouncementLength} characters; then the slow member's socket held {backedUp!.Value.Send} bytes; " +
                $"the next announcement reached the reader after {heldFor.TotalSeconds:0.0} s, and the slow member was closed by {clock.Elapsed.TotalSeconds:0.0} s");
            reader.Closed.IsCompleted.Should().BeFalse("a member that reads is never closed for another's stall");
            reader.Received("Announcement").Should().HaveCount(flood + 1, "the reader got every announcement, in the meantime too");
        }
        finally
        {
            await stopPinging.CancelAsync();
            await pinging;
        }
    }

    private async Task AnnounceAsync(string message)
    {
        using var response = await cluster.Api.PostAsJsonAsync("/api/announcements", new { kind = "maintenance", message });
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Pings until stopped or the connection is gone (bounded by the test's own time).</summary>
    private static async Task PingEverySecondAsync(SlowMember member, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await member.PingAsync(stop);
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            // Stopped, or the replica closed the connection: either ends the pings.
        }
    }

    /// <summary>The cluster with announcements long enough to fill a socket in a few seconds.</summary>
    public sealed class StalledSendCluster : ClusterFixture
    {
        protected override void Configure(string replicaId, Dictionary<string, string> settings)
        {
            settings["RoomServer__Limits__MaxAnnouncementLength"] = AnnouncementLength.ToString(CultureInfo.InvariantCulture);
        }
    }
}
