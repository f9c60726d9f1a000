using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// A draining replica (DESIGN.md §9) only requests each close; a long-polling member receives it with its next poll.
/// When that poll comes late — a phone between polls, a client busy on a loaded box — the close must still be there:
/// the drain waits for the connection's transport to end before the shutdown disposes what is left. Otherwise the
/// member's poll finds no connection (a 404, which nginx turns into one from another replica) and its client reports
/// a failure instead of the close that tells it to reconnect (seen in CI, once for two members and once for three, at
/// the drain's end). A bare long-polling connection, straight to the victim, so nothing but the test decides when it polls.
/// </summary>
[Trait("Suite", "Cluster")]
[Collection(DestructiveClusterCollection.Name)]
public sealed class ReplicaDrainLateCloseTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private const char RecordSeparator = '\u001e';

    // Far past the drain's close of its one connection (its first batch, at once); well within its budget (3.2 s).
    private static readonly TimeSpan PollLate = TimeSpan.FromMilliseconds(1200);

    [Fact]
    public async Task ALongPollingMemberThatPollsLateInTheDrainStillGetsItsReconnectableCloseAndThenTheEnd()
    {
        var room = await cluster.CreateRoomAsync();
        var token = await cluster.TokenAsync(room, "late");
        var victim = cluster.Replicas[0];
        using var http = new HttpClient { BaseAddress = new Uri(victim.BaseUrl, "hubs/room"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var id = await NegotiateAsync(http);
        (await PollAsync(http, id)).Status.Should().Be(HttpStatusCode.OK, "the first poll starts the connection");
        using (var handshake = await http.PostAsync(new Uri($"?id={id}", UriKind.Relative), new StringContent("{\"protocol\":\"json\",\"version\":1}" + RecordSeparator)))
        {
            handshake.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await PollAsync(http, id)).Body.Should().Be("{}" + RecordSeparator, "the handshake succeeded");

        // A call is dispatched only once the connection is registered (the handshake answer comes before that), so after
        // its answer the drain cannot miss the connection. Leaving a room not joined is a no-op.
        using (var leave = await http.PostAsync(new Uri($"?id={id}", UriKind.Relative),
            new StringContent($"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Leave\",\"arguments\":[\"{room.Id}\"]}}" + RecordSeparator)))
        {
            leave.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var completion = SingleMessage((await PollAsync(http, id)).Body);
        completion.GetProperty("type").GetInt32().Should().Be(3, "the Leave's completion");
        completion.TryGetProperty("error", out _).Should().BeFalse("leaving a room not joined is a no-op");

        // No poll is pending when the drain closes the connection: the close waits in the transport for the next one.
        var sinceTerm = Stopwatch.StartNew();
        PosixSignal.Terminate(victim.Pid);
        await Task.Delay(PollLate);
        victim.HasExited.Should().BeFalse("the drain waits for the closed connection's transport to end (within DrainSeconds)");

        var close = await PollAsync(http, id);
        var polledAt = sinceTerm.Elapsed;
        output.WriteLine($"poll {polledAt.TotalMilliseconds:0} ms after SIGTERM: {(int)close.Status} {close.Body}");
        close.Status.Should().Be(HttpStatusCode.OK, $"the connection is still there, its close waiting for this poll\n{cluster.Logs()}");
        var message = SingleMessage(close.Body);
        message.GetProperty("type").GetInt32().Should().Be(7, "a SignalR close message");
        message.GetProperty("allowReconnect").GetBoolean().Should().BeTrue("the drain's close lets the client reconnect elsewhere");
        message.TryGetProperty("error", out _).Should().BeFalse("a drain is no error");

        (await PollAsync(http, id)).Status.Should().Be(HttpStatusCode.NoContent, "the poll after the close ends the connection");

        (await victim.WaitForExitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 3))).Should().BeTrue($"the replica exits within its drain time\n{cluster.Logs()}");
        victim.Output.Should().Contain("Drained: 1 connections closed").And.Contain("0 still open");
    }

    private static async Task<string> NegotiateAsync(HttpClient http)
    {
        using var response = await http.PostAsync(new Uri("room/negotiate?negotiateVersion=1", UriKind.Relative), content: null);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return Uri.EscapeDataString(json.RootElement.GetProperty("connectionToken").GetString()!);
    }

    private static async Task<(HttpStatusCode Status, string Body)> PollAsync(HttpClient http, string id)
    {
        using var response = await http.GetAsync(new Uri($"?id={id}", UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static JsonElement SingleMessage(string body)
    {
        var messages = body.Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries);
        messages.Should().ContainSingle("the poll carries one message: {0}", body);
        return JsonDocument.Parse(messages[0]).RootElement.Clone();
    }
}
