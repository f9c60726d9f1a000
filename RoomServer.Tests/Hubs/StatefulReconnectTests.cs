using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR.Client;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// Issue #11's evaluation of SignalR's stateful reconnect for brief blips on the same replica. A
/// member's WebSocket is aborted under it (the client's own socket, as a network blip would) while
/// another member keeps writing. With stateful reconnect the member resumes the same connection and
/// the server replays what it missed: no Join(since), no gap. Without it — the control — every blip
/// is a new connection that is no longer in the room until it joins again: a resync each time.
/// </summary>
public sealed class StatefulReconnectTests(EmbeddedContractServer server, ITestOutputHelper output) : IClassFixture<EmbeddedContractServer>
{
    private const int Blips = 5;
    private const int WritesPerBlip = 3;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task WithStatefulReconnectABlipNeedsNoResyncAndLosesNothing()
    {
        var outcome = await BlipAsync(stateful: true);

        output.WriteLine($"stateful reconnect: {Blips} blips, {outcome.Reconnects} hub reconnects (resyncs), connection ids {outcome.ConnectionIds}, events {outcome.Events}");
        outcome.Reconnects.Should().Be(0, "the connection resumed under the hub: it never had to join again");
        outcome.ConnectionIds.Should().Be(1, "the same connection throughout");
        outcome.Versions.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        outcome.Versions.Should().Equal(Enumerable.Range(3, Blips * WritesPerBlip).Select(v => (long)v), "every event of every blip, replayed in order, none twice");
    }

    [Fact]
    public async Task WithoutStatefulReconnectEveryBlipIsAResync()
    {
        var outcome = await BlipAsync(stateful: false);

        output.WriteLine($"control: {Blips} blips, {outcome.Reconnects} hub reconnects (resyncs), connection ids {outcome.ConnectionIds}");
        outcome.Reconnects.Should().Be(Blips, "each blip is a new connection, which must Join(since) again");
        outcome.ConnectionIds.Should().Be(Blips + 1);
    }

    private async Task<BlipOutcome> BlipAsync(bool stateful)
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        ClientWebSocket? socket = null;
        var reconnects = 0;
        var connectionIds = new HashSet<string>(StringComparer.Ordinal);
        await using var bob = await HubTestClient.ConnectAsync(server.BaseUrl, await server.TokenAsync(room, "bob"), o =>
        {
            o.Negotiate = true;
            o.StatefulReconnect = stateful;
            o.Reconnect = new ImmediateRetry();
            o.ConfigureHttp = http =>
            {
                http.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
                http.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var ws = new ClientWebSocket();
                    ws.Options.SetRequestHeader("Authorization", "Bearer " + await server.TokenAsync(room, "bob"));
                    await ws.ConnectAsync(context.Uri, cancellationToken);
                    socket = ws;
                    return ws;
                };
            };
        });
        bob.Connection.Reconnected += async _ =>
        {
            // What a real client does after a reconnect that lost its connection: join again from its position.
            Interlocked.Increment(ref reconnects);
            await bob.InvokeAsync("Join", room.Id, null);
        };
        connectionIds.Add(bob.Connection.ConnectionId!);
        await bob.InvokeAsync("Join", room.Id, null);
        await bob.SkipEventsThroughAsync(2);

        var version = 2L;
        var seen = new List<long>();
        for (var blip = 0; blip < Blips; blip++)
        {
            socket!.Abort();
            for (var write = 0; write < WritesPerBlip; write++)
            {
                version = (await ann.Client.AdjustChoiceAsync(room, "cola", 1)).Version;
            }

            // Back to Connected (resumed, or reconnected and joined again), then the last write is in.
            var deadline = DateTime.UtcNow + Bound;
            while (bob.Connection.State != HubConnectionState.Connected || (stateful ? seen.LastOrDefault() < version : Volatile.Read(ref reconnects) <= blip))
            {
                DateTime.UtcNow.Should().BeBefore(deadline, $"blip {blip} should be over");
                while (bob.TryRead("RoomEvent", out var e))
                {
                    seen.Add(e.GetProperty("version").GetInt64());
                }

                await Task.Delay(20);
            }

            connectionIds.Add(bob.Connection.ConnectionId ?? "");
        }

        return new BlipOutcome(Volatile.Read(ref reconnects), connectionIds.Count, seen.Count, seen);
    }

    private sealed record BlipOutcome(int Reconnects, int ConnectionIds, int Events, List<long> Versions);

    private sealed class ImmediateRetry : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => retryContext.PreviousRetryCount < 20 ? TimeSpan.Zero : null;
    }
}
