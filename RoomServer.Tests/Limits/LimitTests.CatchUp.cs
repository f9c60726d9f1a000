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
}
