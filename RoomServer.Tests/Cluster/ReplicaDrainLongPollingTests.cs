using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http.Connections;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// SIGTERM drain (DESIGN.md §9) with members on long polling, the transport of clients behind proxies that
/// take no WebSockets: each poll is a new request on the hub's path, but it belongs to a connection the
/// replica already holds, so the drain gate — which refuses new connections — must let it through until the
/// member's batch closes the connection.
/// </summary>
[Trait("Suite", "Cluster")]
public sealed class ReplicaDrainLongPollingTests(ITestOutputHelper output)
{
    private const int Members = 6;
    private const int DrainSeconds = 10;

    [Fact]
    public async Task LongPollingMembersOfADrainingReplicaAreClosedInTheirBatchesNotAtTheirNextPoll()
    {
        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(
            ("RoomServer__DrainSeconds", DrainSeconds.ToString(CultureInfo.InvariantCulture))));
        using var api = SecurityTestServer.Api(server);
        var roomId = await SecurityTestServer.CreateRoomAsync(api);
        var members = new List<HubTestClient>();
        try
        {
            for (var i = 0; i < Members; i++)
            {
                var token = await SecurityTestServer.TokenAsync(api, roomId, "lp" + i.ToString(CultureInfo.InvariantCulture));
                var member = await HubTestClient.ConnectAsync(server.BaseUrl, token, o =>
                {
                    o.Negotiate = true;
                    o.ConfigureHttp = http => http.Transports = HttpTransportType.LongPolling;
                });
                members.Add(member);
                await member.InvokeAsync("Join", roomId, null);
            }

            var sinceTerm = Stopwatch.StartNew();
            var closedAt = members.Select(m => m.Closed.ContinueWith(t => (At: sinceTerm.Elapsed, Reason: t.Result), TaskScheduler.Default)).ToList();
            PosixSignal.Terminate(server.Pid);
            using var anonymous = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
            await Poll.UntilAsync(async () => (int)(await anonymous.GetAsync("/readyz")).StatusCode == 503, TimeSpan.FromSeconds(2), "/readyz fails at once");

            // Room traffic during the drain (the HTTP API still takes it): every member's open poll returns with
            // the notice, and each member polls again at once.
            (await api.PostAsJsonAsync($"/api/rooms/{roomId}/notices", new { kind = "k", payload = 1 })).EnsureSuccessStatusCode();

            var closes = await Task.WhenAll(closedAt).WaitAsync(TimeSpan.FromSeconds(DrainSeconds + 2));
            output.WriteLine(string.Join(Environment.NewLine, closes.Select(c => $"{c.At.TotalMilliseconds:0} ms: {c.Reason ?? "(clean)"}")));
            closes.Should().AllSatisfy(c => (c.Reason ?? "").Should().NotContain("503", "a poll of a connection the replica holds is not a new connection"));
            var times = closes.Select(c => c.At).Order().ToList();
            // DrainSeconds 10: a batch every 10 × 0.8 / 2 / 10 = 400 ms, one member each; all at the notice would be within a few ms.
            (times[^1] - times[0]).Should().BeGreaterThan(TimeSpan.FromSeconds(1), "long-polling members are closed in staggered batches too");
            (await server.WaitForExitAsync(TimeSpan.FromSeconds(DrainSeconds + 3))).Should().BeTrue("the replica exits within its drain time");
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }
}
