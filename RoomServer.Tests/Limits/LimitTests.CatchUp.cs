using System.Net.Http.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Limits;

public abstract partial class LimitTests
{
    private const int CatchUpNoticePayloadBytes = 3000;

    [Fact]
    public async Task ACatchUpLargerThanAConnectionsOutgoingBoundIsAnsweredWithASnapshot()
    {
        var room = await Server.CreateRoomAsync();
        await using var ann = await Server.JoinAsync(room, "ann");
        var joinedAt = ann.Joined.Position.Version;

        // Twelve notices of ~3 KB: ~37 KB of events, past the 32 KB bound; the last six, ~19 KB, within it.
        const int Notices = 12;
        var payload = new string('n', CatchUpNoticePayloadBytes);
        for (var i = 0; i < Notices; i++)
        {
            using var response = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "menu", payload });
            ((int)response.StatusCode).Should().Be(202, await response.Content.ReadAsStringAsync());
        }

        var version = joinedAt + Notices;
        Notices.Should().BeLessThanOrEqualTo(ContractServer.HistoryLength, "history reaches back: only the bytes may refuse the replay");
        (Notices * CatchUpNoticePayloadBytes).Should().BeGreaterThan(LimitSettings.MaxPendingBytesPerConnection);

        var tooMuch = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = joinedAt });
        tooMuch.Missed.Should().BeNull("the backlog that would drop a member to a resync is not sent back as one reply");
        tooMuch.Snapshot!.Version.Should().Be(version);
        tooMuch.Position.Should().Be(new RoomPosition(room.Epoch, version));

        var since = version - (Notices / 2);
        var within = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = since });
        within.Snapshot.Should().BeNull("half of them fit the bound");
        within.Missed!.Select(e => (e.Version, e.Type)).Should().Equal(
            Enumerable.Range(1, Notices / 2).Select(i => (since + i, RoomEventTypes.Notice)));
    }

    /// <summary>
    /// The bound counts an event's JSON as stored, the same in both modes: a payload sent with characters beyond the BMP
    /// as UTF-8 counts 4 bytes each (serializing it again would write 12), and one padded with whitespace counts it all
    /// (serializing it again would drop it). Each case is within or past the bound by the stored count alone.
    /// </summary>
    [Theory]
    [InlineData("emoji", 10, true)] // 10 × ~2.7 KB stored (26 KB, within); re-serialized, 10 × ~7.5 KB
    [InlineData("whitespace", 12, false)] // 12 × ~2.9 KB stored (34 KB, past); re-serialized, 12 × ~0.3 KB
    public async Task ACatchUpsBytesAreCountedAsTheEventsAreStored(string padding, int notices, bool replayed)
    {
        notices.Should().BeLessThanOrEqualTo(ContractServer.HistoryLength, "history reaches back: only the bytes may refuse the replay");
        var room = await Server.CreateRoomAsync();
        await using var ann = await Server.JoinAsync(room, "ann");
        var joinedAt = ann.Joined.Position.Version;
        var payload = padding == "emoji"
            ? "\"" + string.Concat(Enumerable.Repeat("\U0001F355", 600)) + "\"" // 600 pizzas, 2 402 bytes as sent
            : "[1" + new string(' ', 2600) + "]";
        for (var i = 0; i < notices; i++)
        {
            using var body = new StringContent($$"""{"kind":"menu","payload":{{payload}}}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await Server.Api.PostAsync($"/api/rooms/{room.Id}/notices", body);
            ((int)response.StatusCode).Should().Be(202, await response.Content.ReadAsStringAsync());
        }

        var caughtUp = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = joinedAt });

        caughtUp.Position.Should().Be(new RoomPosition(room.Epoch, joinedAt + notices));
        if (replayed)
        {
            caughtUp.Snapshot.Should().BeNull($"{notices} notices padded with {padding} are within the bound as stored");
            caughtUp.Missed!.Should().HaveCount(notices);
        }
        else
        {
            caughtUp.Missed.Should().BeNull($"{notices} notices padded with {padding} are past the bound as stored");
            caughtUp.Snapshot!.Version.Should().Be(joinedAt + notices);
        }
    }
}
