using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// A hub connection keeps the room, member and role of the token it opened with (DESIGN §3). SignalR takes each later
/// request's principal as the connection's user, so a long poll, a send or a stateful reconnect carrying another
/// room's token, or another member's, would have moved the connection onto that token: still in its first room and
/// reading it, with its expiry and removal judged by the other one; and its member's token with another role would
/// have made a member who joined as one an owner. Such a request is refused (403 <c>forbidden</c>); a newer token of
/// the same member and role is taken.
/// </summary>
public abstract partial class RoomContractTests
{
    private const char RecordSeparator = '\u001e';

    [Fact]
    public async Task ALongPollingConnectionRefusesAnotherMembersOrRoomsTokenAndTakesItsOwnMembersNewerOne()
    {
        var room = await Server.CreateRoomAsync();
        var ann = await Server.TokenAsync(room, "ann");
        var annAgain = await Server.TokenAsync(room, "ann");
        var bob = await Server.TokenAsync(room, "bob");
        var annAsOwner = await Server.TokenAsync(room, "ann", "owner");
        var elsewhere = await Server.TokenAsync(await Server.CreateRoomAsync(), "ann");
        var id = await NegotiateConnectionAsync(ann);
        var path = "/hubs/room?id=" + Uri.EscapeDataString(id);

        using (var started = await Server.Anonymous.SendAsync(HubRequest(HttpMethod.Get, path, ann)))
        {
            started.StatusCode.Should().Be(HttpStatusCode.OK, "the first poll starts the connection");
        }

        await SendAsync(path, ann, "{\"protocol\":\"json\",\"version\":1}");
        await SendAsync(path, ann, $"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Join\",\"arguments\":[\"{room.Id}\",null]}}");
        (await PollUntilCompletionAsync(path, ann, "1")).Should().Contain("\"result\"", "ann joined her room");

        // An owner token of ann's would make her an owner whose Join set no owner mark: removable, with owner-only calls.
        foreach (var (other, whose) in new[] { (elsewhere, "another room's token"), (bob, "another member's token"), (annAsOwner, "her own token with another role") })
        {
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete })
            {
                using var request = HubRequest(method, path, other);
                if (method == HttpMethod.Post)
                {
                    request.Content = new StringContent($"{{\"type\":1,\"invocationId\":\"x\",\"target\":\"Leave\",\"arguments\":[\"{room.Id}\"]}}{RecordSeparator}");
                }

                using var refused = await Server.Anonymous.SendAsync(request);
                await ShouldBeForbiddenAsync(refused, $"a {method} with {whose}");
            }
        }

        // A newer token of the same member (a refresh) is the connection's own: its call is served, and the
        // connection is still ann's, in her room.
        await SendAsync(path, annAgain, $"{{\"type\":1,\"invocationId\":\"2\",\"target\":\"AdjustChoice\",\"arguments\":[\"{room.Id}\",\"cola\",1,null]}}");
        (await PollUntilCompletionAsync(path, annAgain, "2")).Should().Contain("\"result\"", "ann's newer token serves her connection");
        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Members.Should().ContainSingle(member => member.MemberId == "ann" && member.Online, "the refused requests changed nothing");
    }

    [Fact]
    public async Task AStatefulReconnectWithAnotherRoomsTokenIsRefusedAndOneWithItsMembersNewerTokenIsTaken()
    {
        var room = await Server.CreateRoomAsync();
        var ann = await Server.TokenAsync(room, "ann");
        var annAgain = await Server.TokenAsync(room, "ann");
        var elsewhere = await Server.TokenAsync(await Server.CreateRoomAsync(), "ann");
        var id = await NegotiateConnectionAsync(ann, "&useStatefulReconnect=true");

        using (var socket = new ClientWebSocket())
        {
            await socket.ConnectAsync(HubSocketUrl(id, ann), CancellationToken.None);
            await SendFrameAsync(socket, "{\"protocol\":\"json\",\"version\":2}"); // 2: stateful reconnect (its acks and sequence)
            await SendFrameAsync(socket, $"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Join\",\"arguments\":[\"{room.Id}\",null]}}");
            await ReadUntilCompletionAsync(socket, "1");
            socket.Abort(); // the transport drops; the connection waits for its reconnect
        }

        using (var reconnect = HubRequest(HttpMethod.Get, "/hubs/room?id=" + Uri.EscapeDataString(id), elsewhere))
        {
            AddWebSocketUpgrade(reconnect);
            using var refused = await Server.Anonymous.SendAsync(reconnect);
            await ShouldBeForbiddenAsync(refused, "a stateful reconnect with another room's token");
        }

        var lastStatus = default(HttpStatusCode);
        // ann's newer token takes the connection back (SignalR answers 409 until it has seen the old transport go).
        using var resumed = await Poll.ForAsync<ClientWebSocket?>(
            async () =>
            {
                var socket = new ClientWebSocket();
                socket.Options.CollectHttpResponseDetails = true;
                try
                {
                    await socket.ConnectAsync(HubSocketUrl(id, annAgain), CancellationToken.None);
                    return socket;
                }
                catch (WebSocketException)
                {
                    lastStatus = socket.HttpStatusCode;
                    socket.Dispose();
                    return null;
                }
            },
            socket => socket is not null,
            TimeSpan.FromSeconds(10),
            _ => $"ann's reconnect with her newer token was not taken within 10 s (last answer {lastStatus})");
        resumed!.State.Should().Be(WebSocketState.Open);
        await resumed.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    private Uri HubSocketUrl(string id, string token) =>
        new UriBuilder(Server.BaseUrl)
        {
            Scheme = Server.BaseUrl.Scheme == "https" ? "wss" : "ws",
            Path = "/hubs/room",
            Query = $"id={Uri.EscapeDataString(id)}&access_token={Uri.EscapeDataString(token)}",
        }.Uri;

    private async Task SendAsync(string path, string token, string message)
    {
        using var request = HubRequest(HttpMethod.Post, path, token);
        request.Content = new StringContent(message + RecordSeparator);
        using var response = await Server.Anonymous.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, $"the send of {message} is taken");
    }

    /// <summary>Polls until the completion of the invocation arrives; its frame.</summary>
    private async Task<string> PollUntilCompletionAsync(string path, string token, string invocationId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            using var poll = await Server.Anonymous.SendAsync(HubRequest(HttpMethod.Get, path, token));
            poll.StatusCode.Should().Be(HttpStatusCode.OK);
            var completion = (await poll.Content.ReadAsStringAsync()).Split(RecordSeparator)
                .FirstOrDefault(frame => frame.Contains("\"type\":3") && frame.Contains($"\"invocationId\":\"{invocationId}\""));
            if (completion is not null)
            {
                return completion;
            }
        }

        throw new TimeoutException($"no completion of invocation {invocationId} within 20 s");
    }

    private static Task SendFrameAsync(ClientWebSocket socket, string message) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(message + RecordSeparator), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task ReadUntilCompletionAsync(ClientWebSocket socket, string invocationId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[64 * 1024];
        var received = new StringBuilder();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            result.MessageType.Should().NotBe(WebSocketMessageType.Close, "the connection stays open until the Join completes");
            received.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
            if (received.ToString().Split(RecordSeparator).Any(frame => frame.Contains("\"type\":3") && frame.Contains($"\"invocationId\":\"{invocationId}\"")))
            {
                return;
            }
        }
    }

    private static async Task ShouldBeForbiddenAsync(HttpResponseMessage response, string what)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden, what);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be(RoomErrorCodes.Forbidden, what);
        problem.Detail.Should().Contain("keeps the room, member and role it opened with", what);
    }
}
