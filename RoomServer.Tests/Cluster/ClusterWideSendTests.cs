using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// Sends that are not room events travel on SignalR's own Redis backplane and must reach their
/// targets on every replica: an announcement to every client (also after Redis was away), and a
/// removed member's <c>Removed</c> on whichever replicas their devices are.
/// </summary>
[Trait("Suite", "Cluster")]
public sealed class ClusterWideSendTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan ArrivalTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AnAnnouncementReachesClientsOnEveryReplicaAlsoAfterARedisOutage()
    {
        var room = await cluster.CreateRoomAsync();
        var clients = new List<HubTestClient>();
        try
        {
            // One client straight on each replica, so every replica must hear the announcement. Each is connected on the
            // server before Redis stops (a Leave of a room not joined is dispatched only once the connect is done): a
            // connect whose SUBSCRIBEs on SignalR's backplane were still on their way would fail, and close it.
            foreach (var replica in cluster.Replicas)
            {
                var client = await HubTestClient.ConnectAsync(replica.BaseUrl, await cluster.TokenAsync(room, "m-" + replica.ReplicaId));
                clients.Add(client);
                await client.InvokeAsync("Leave", room.Id);
            }

            await AnnounceAndExpectEverywhereAsync(clients, "before the outage");

            await cluster.Redis.StopAsync();
            await cluster.WaitForReadyStatusAsync(503, TimeSpan.FromSeconds(15));
            await cluster.Redis.StartAgainAsync();
            await cluster.WaitForReadyStatusAsync(200, TimeSpan.FromSeconds(30));

            // The official backplane re-subscribes by itself, a moment after the rooms' connection is
            // back, and delivers at most once: an announcement sent in that moment can miss a replica.
            // So announcements are repeated (bounded) until every replica's client has one from after
            // the outage — proof its channels recovered without a restart.
            await AnnounceUntilEverywhereAsync(clients, "after the outage", TimeSpan.FromSeconds(20));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RemovingAMemberClosesTheirConnectionsOnTwoReplicasAndRefusesTheirOldToken()
    {
        var room = await cluster.CreateRoomAsync();
        var (first, second) = (cluster.Replicas[0], cluster.Replicas[1]);
        var bobToken = await cluster.TokenAsync(room, "bob");
        await using var phone = await HubTestClient.ConnectAsync(first.BaseUrl, bobToken);
        await using var laptop = await HubTestClient.ConnectAsync(second.BaseUrl, bobToken);
        (await phone.InvokeAsync<JoinResult>("Join", room.Id, null)).Replica.Should().Be(first.ReplicaId);
        (await laptop.InvokeAsync<JoinResult>("Join", room.Id, null)).Replica.Should().Be(second.ReplicaId);
        await phone.SetChoiceAsync(room, "pizza", 3);
        await using var ann = await cluster.JoinAsync(room, "ann");
        await ann.Client.SetChoiceAsync(room, "cola", 1);
        (await cluster.SnapshotAsync(room, first)).TotalMinor.Should().Be((3 * 1150) + 300);

        var clock = Stopwatch.StartNew();
        var response = await cluster.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());

        foreach (var device in new[] { phone, laptop })
        {
            var removed = (await device.NextAsync("Removed", ArrivalTimeout)).Deserialize<MemberRemovedNotice>(ContractServer.Json);
            removed.Should().Be(new MemberRemovedNotice(room.Id, "bob", "api"));
            await device.Closed.WaitAsync(ArrivalTimeout);
        }

        // `by: "api"` above shows the removal's own path told them (a tick's sweep says `by: null`); the bound
        // says only "promptly", with room for a loaded box (CI's runs every class at once on 2 cores).
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "both devices are told and closed promptly");
        var connect = () => HubTestClient.ConnectAsync(cluster.BaseUrl, bobToken);
        (await connect.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401");

        var snapshot = await cluster.SnapshotAsync(room, second);
        snapshot.TotalMinor.Should().Be(300, "bob's pizzas left the order");
        snapshot.Members.Select(m => m.MemberId).Should().Equal("ann");

        await using var readmitted = await HubTestClient.ConnectAsync(cluster.BaseUrl, await cluster.TokenAsync(room, "bob"));
        (await readmitted.InvokeAsync<JoinResult>("Join", room.Id, null)).Snapshot!.Members.Select(m => m.MemberId).Should().Contain("bob");
    }

    /// <summary>
    /// A device of the member that never joined, on a replica where nobody is in the room: that replica does
    /// not follow the room's channel, so it hears of the removal from the removal broadcast (DESIGN.md §3
    /// <c>Removed</c>: the server closes every connection of the removed member).
    /// </summary>
    [Fact]
    public async Task RemovingAMemberClosesTheirDeviceThatNeverJoinedOnAReplicaWhereNobodyIsInTheRoom()
    {
        var room = await cluster.CreateRoomAsync();
        var (first, second) = (cluster.Replicas[0], cluster.Replicas[1]);
        var bobToken = await cluster.TokenAsync(room, "bob");
        await using var phone = await HubTestClient.ConnectAsync(first.BaseUrl, bobToken);
        (await phone.InvokeAsync<JoinResult>("Join", room.Id, null)).Replica.Should().Be(first.ReplicaId);
        await using var tablet = await HubTestClient.ConnectAsync(second.BaseUrl, bobToken);

        var clock = Stopwatch.StartNew();
        var response = await cluster.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());

        (await tablet.NextAsync("Removed", ArrivalTimeout)).Deserialize<MemberRemovedNotice>(ContractServer.Json)
            .Should().Be(new MemberRemovedNotice(room.Id, "bob", "api"));
        (await Task.WhenAny(tablet.Closed, Task.Delay(ArrivalTimeout))).Should().BeSameAs(tablet.Closed, $"the replica closes the removed member's device that never joined\n{cluster.Logs()}");
        await phone.Closed.WaitAsync(ArrivalTimeout);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "both devices are closed promptly (`by: \"api\"`: the removal's own path)");
    }

    /// <summary>
    /// A removal repeated (its first reply lost, say) is broadcast again: a device connected with a token issued
    /// between the two, on a replica where nobody is in the room, is closed — the repeat refuses such tokens
    /// as a removal does — and is told <c>Removed</c> before the close (its first: nothing else told it), with the
    /// repeat's <c>by</c>.
    /// </summary>
    [Fact]
    public async Task ARepeatedRemovalClosesADeviceOfATokenIssuedSinceOnAReplicaWhereNobodyIsInTheRoom()
    {
        var room = await cluster.CreateRoomAsync();
        var (first, second) = (cluster.Replicas[0], cluster.Replicas[1]);
        await using (var phone = await HubTestClient.ConnectAsync(first.BaseUrl, await cluster.TokenAsync(room, "bob")))
        {
            (await phone.InvokeAsync<JoinResult>("Join", room.Id, null)).Replica.Should().Be(first.ReplicaId);
            (await cluster.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);
            await phone.Closed.WaitAsync(ArrivalTimeout);
        }

        await using var tablet = await HubTestClient.ConnectAsync(second.BaseUrl, await cluster.TokenAsync(room, "bob"));
        var again = await cluster.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob");
        again.StatusCode.Should().Be(HttpStatusCode.OK, await again.Content.ReadAsStringAsync());

        (await Task.WhenAny(tablet.Closed, Task.Delay(ArrivalTimeout))).Should().BeSameAs(tablet.Closed, $"the repeat refuses the token issued since and closes its device\n{cluster.Logs()}");
        (await tablet.ShouldBeToldRemovedThenClosedAsync(room.Id, "bob", by: "api", ArrivalTimeout)).Should().Be(1);
    }

    private async Task AnnounceUntilEverywhereAsync(IReadOnlyList<HubTestClient> clients, string prefix, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var waiting = clients.ToList();
        for (var round = 0; waiting.Count > 0; round++)
        {
            clock.Elapsed.Should().BeLessThan(limit, $"{waiting.Count} client(s) still had no announcement after the outage\n{cluster.Logs()}");
            var message = $"{prefix} #{round}";
            var response = await cluster.Api.PostAsJsonAsync("/api/announcements", new { kind = "maintenance", message });
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                await Task.Delay(200);
            }

            waiting.RemoveAll(c => c.Received("Announcement").Any(a => a.GetProperty("message").GetString()!.StartsWith(prefix, StringComparison.Ordinal)));
        }
    }

    private async Task AnnounceAndExpectEverywhereAsync(IReadOnlyList<HubTestClient> clients, string message)
    {
        var deadline = Stopwatch.StartNew();
        HttpResponseMessage response;
        while (true)
        {
            response = await cluster.Api.PostAsJsonAsync("/api/announcements", new { kind = "maintenance", message });
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || deadline.Elapsed > TimeSpan.FromSeconds(20))
            {
                break;
            }

            await Task.Delay(250);
        }

        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        foreach (var (client, index) in clients.Select((c, i) => (c, i)))
        {
            JsonElement announcement;
            try
            {
                announcement = await client.WaitForAsync("Announcement", a => a.GetProperty("message").GetString() == message, ArrivalTimeout);
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"client {index} ({message}): {ex.Message}\n{cluster.Logs()}", ex);
            }

            announcement.GetProperty("kind").GetString().Should().Be("maintenance");
        }
    }
}
