extern alias loadtool;

using System.Collections.Concurrent;
using loadtool::RoomShare.LoadTest.Hub;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Bench;

/// <summary>
/// The load tool's <c>-webclient</c> arms connect as the reference web client does (negotiate with stateful
/// reconnect, then an ack a second), so that what they measure includes the server's replay buffer. Against a
/// real RoomServer: the server turns stateful reconnect on for such a connection and acks its calls; and the
/// client's acks are taken, so what the server holds for it stays small. One that never acks keeps receiving too: the
/// server holds up to <see cref="RoomServer.Hubs.HubExtensions.StatefulReconnectBufferBytes"/> for it, far more than
/// SignalR's 100 KB default, past which SignalR stopped writing to it (Limits/UnacknowledgingMemberTests).
/// </summary>
public sealed class LoadToolWebClientTests(EmbeddedContractServer server, ITestOutputHelper output) : IClassFixture<EmbeddedContractServer>, IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler { UseCookies = false });

    public void Dispose() => _invoker.Dispose();

    private Uri HubUri => new UriBuilder(server.BaseUrl) { Scheme = "ws", Path = "/hubs/room" }.Uri;

    [Fact]
    public async Task AWebClientNegotiatesStatefulReconnectAndTheServerAcksItsCalls()
    {
        var room = await server.CreateRoomAsync();
        var webListener = new Listener();
        var leanListener = new Listener();
        await using var web = await ConnectAsync(room, "web", webListener, asWebClient: true);
        await using var lean = await ConnectAsync(room, "lean", leanListener, asWebClient: false);

        web.StatefulReconnect.Should().BeTrue("the server allows stateful reconnect (RoomServer__StatefulReconnect) and the client asked for it");
        lean.StatefulReconnect.Should().BeFalse("a client that skips negotiate cannot have asked");
        await web.JoinAsync(room.Id, CancellationToken.None);
        await lean.JoinAsync(room.Id, CancellationToken.None);
        await web.SendChoiceAsync("s1c1", room.Id, "cola", 1);
        await lean.SendChoiceAsync("s1c2", room.Id, "cola", 2);

        // The server's replay buffer acks what it received from the client on a one-second timer.
        await Poll.UntilAsync(() => web.ServerAcks > 0, Bound, "the server acks a stateful connection's calls");
        await Poll.UntilAsync(() => !leanListener.Completions.IsEmpty, Bound, "the lean client's call completed");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the server's next ack tick
        lean.ServerAcks.Should().Be(0, "a connection without stateful reconnect is never acked");

        await web.AckAsync();
        web.AckedThrough.Should().BeGreaterThanOrEqualTo(2, "the Join's answer and the call's answer (and the events) are invocation messages to ack");
    }

    [Fact]
    public async Task AConnectionThatAcksAndOneThatNeverDoesBothReceiveEveryEventPastSignalRsDefaultBuffer()
    {
        const int Changes = 1000; // at ~300 bytes a frame, about three times the 100 KB SignalR would hold by default
        var room = await server.CreateRoomAsync();
        var ackingListener = new Listener();
        var silentListener = new Listener();
        await using var acking = await ConnectAsync(room, "acking", ackingListener, asWebClient: true);
        await using var silent = await ConnectAsync(room, "silent", silentListener, asWebClient: true);
        await acking.JoinAsync(room.Id, CancellationToken.None);
        await silent.JoinAsync(room.Id, CancellationToken.None);
        await using var writer = await server.JoinAsync(room, "writer");

        using var stop = new CancellationTokenSource();
        var acks = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await acking.AckAsync();
                await Task.Delay(200);
            }
        });

        var firstVersion = 0L;
        var lastVersion = 0L;
        for (var i = 0; i < Changes; i++)
        {
            // ~75 changes a second, under the hub's 100 calls a second per connection; between two acks the
            // acking connection's buffer stays far under 100 KB.
            lastVersion = (await writer.Client.SetChoiceAsync(room, "cola", 1 + (i % 5), $"w{i}")).Version;
            firstVersion = firstVersion == 0 ? lastVersion : firstVersion;
            if (i % 50 == 49)
            {
                await Task.Delay(600);
            }
        }

        await Poll.UntilAsync(() => ackingListener.LastVersion(room.Id) >= lastVersion, Bound, "the acking connection receives every event");
        await Poll.UntilAsync(() => silentListener.LastVersion(room.Id) >= lastVersion, Bound, "the silent connection receives every event too");
        await stop.CancelAsync();
        await acks;

        var ackingVersions = ackingListener.Versions(room.Id).Where(v => v >= firstVersion).ToList();
        var silentVersions = silentListener.Versions(room.Id).Where(v => v >= firstVersion).ToList();
        output.WriteLine($"{Changes} changes (versions {firstVersion}..{lastVersion}): the acking connection received {ackingVersions.Count} (acked through {acking.AckedThrough}), the silent one {silentVersions.Count}, closed: {silentListener.ClosedReason ?? "no"}");
        ackingVersions.Should().Equal(Enumerable.Range(0, Changes).Select(i => firstVersion + i), "every change, in order, once");
        silentVersions.Should().Equal(ackingVersions, "the server keeps writing to a stateful connection past SignalR's default 100 KB unacked");
        acking.AckedThrough.Should().BeGreaterThan(Changes, "the acking connection acked what it received");
    }

    private async Task<LeanHubConnection> ConnectAsync(TestRoom room, string memberId, Listener listener, bool asWebClient)
    {
        using var deadline = new CancellationTokenSource(Bound);
        return await LeanHubConnection.ConnectAsync(
            HubUri, LeanHubWire.Json, await server.TokenAsync(room, memberId), room.Id, asWebClient, _invoker, listener, deadline.Token);
    }

    /// <summary>Keeps what one connection's receive loop hands over.</summary>
    private sealed class Listener : IHubListener
    {
        private readonly ConcurrentQueue<(string Room, long Version)> _events = new();

        public ConcurrentQueue<string> Completions { get; } = new();

        public string? ClosedReason { get; private set; }

        public IEnumerable<long> Versions(string roomId) => _events.Where(e => e.Room == roomId).Select(e => e.Version);

        public long LastVersion(string roomId) => Versions(roomId).DefaultIfEmpty(0).Max();

        public void OnRoomEvent(RoomEventWire roomEvent, long receivedAt) => _events.Enqueue((roomEvent.RoomId, roomEvent.Version));

        public void OnJoined(JoinResultWire result)
        {
        }

        public void OnChangeCompleted(string invocationId, string? hubError, long receivedAt) => Completions.Enqueue(invocationId);

        public void OnClosed(string reason) => ClosedReason = reason;
    }
}
