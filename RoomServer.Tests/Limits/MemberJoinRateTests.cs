using System.Diagnostics;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// A member's Joins to a room are paced per replica, across all their connections (README "Limits",
/// <c>MemberJoinsPerSecond</c>, here 1 a second, bursts of 3). Each Join runs a store script, and the
/// per-connection call budget alone let one member run about a thousand a second. A refused Join is
/// <c>rate_limited</c>, names the limit, and changes nothing: the connection is not in the room, the store
/// is not asked (its Joins are counted by a decorator), and the connection stays open to Join again.
/// </summary>
public abstract class MemberJoinRateTests(MemberJoinRateTests.ICountingServer counting)
{
    public const int PerSecond = 1;
    public const int Burst = 3;

    /// <summary>Joins past this many without a refusal mean the pace is not enforced.</summary>
    private const int JoinCap = 4 * Burst;

    private static readonly string Limit = $"at most {PerSecond} Joins a second, bursts of {Burst}";

    private ContractServer Server => counting.Server;

    [Fact]
    public async Task JoinsPastTheMembersBurstAreRateLimitedAndTheRefusalNamesTheLimit()
    {
        var room = await Server.CreateRoomAsync();
        await using var carl = await Server.ConnectAsync(await Server.TokenAsync(room, "carl"));
        var clock = Stopwatch.StartNew();

        // A full bucket lets a whole burst through: a fresh Join, then resyncs of the same connection.
        for (var i = 0; i < Burst; i++)
        {
            await carl.InvokeAsync<JoinResult>("Join", room.Id, null);
        }

        var (more, refused) = await JoinUntilRefusedAsync(room, carl);
        var elapsed = clock.Elapsed;

        refused.Code.Should().Be(RoomErrorCodes.RateLimited);
        refused.ErrorText.Should().Contain("this member is joining the room too fast").And.Contain(Limit);
        more.Should().BeLessThanOrEqualTo((int)Math.Ceiling(elapsed.TotalSeconds * PerSecond), $"only the refill passes the burst ({elapsed.TotalMilliseconds:F0} ms)");
        counting.Joins(room.Id, "carl").Should().Be(Burst + more, "each accepted Join ran the store's join once, the refused one not at all");
        (await carl.InvokeAsync<ChoiceAck>("SetChoice", room.Id, "pizza", 1, "after-refused-join")).Version
            .Should().BeGreaterThan(0, "a refused resync leaves the connection joined: it is still in the room");
    }

    [Fact]
    public async Task ARefusedJoinChangesNothingAndTheConnectionJoinsOnceATokenIsBack()
    {
        var room = await Server.CreateRoomAsync();
        await using var olga = await Server.JoinAsync(room, "olga", "owner");
        await using var phone = await Server.ConnectAsync(await Server.TokenAsync(room, "carl"));
        var joined = await phone.InvokeAsync<JoinResult>("Join", room.Id, null);
        var version = joined.Position.Version;
        await olga.Client.NextPresenceAsync(p => p.MemberId == "carl" && p.Online);
        await olga.Client.SkipEventsThroughAsync(version);
        await using var tablet = await Server.ConnectAsync(await Server.TokenAsync(room, "carl"));
        var presenceBefore = olga.Client.Received("Presence").Count;

        var (refused, storeJoinsBefore) = await RefusedFirstJoinAsync(room, exhauster: phone, target: tablet);

        refused.Code.Should().Be(RoomErrorCodes.RateLimited);
        refused.ErrorText.Should().Contain(Limit);
        counting.Joins(room.Id, "carl").Should().Be(storeJoinsBefore, "a refused Join does not ask the store");

        // The tablet is not in the room: a change from it is answered as one before Join.
        var change = () => tablet.SetChoiceAsync(room, "pizza", 1);
        (await change.Should().ThrowAsync<HubErrorException>()).Which.ErrorText.Should().Contain("call Join(roomId, since) before changing the room");

        // Nothing was published: olga's own next change is the room's next event, and no presence came before it.
        (await Server.SnapshotAsync(room)).Version.Should().Be(version, "a refused Join changes no state");
        (await olga.Client.AdjustChoiceAsync(room, "cola", 1)).Version.Should().Be(version + 1);
        (await olga.Client.NextEventShouldBeAsync(version + 1)).MemberId.Should().Be("olga");
        olga.Client.Received("Presence").Should().HaveCount(presenceBefore, "a refused Join announces nobody");
        tablet.Received("RoomEvent").Should().BeEmpty("a connection not in the room is sent nothing of it");

        // Still open: once a token is back (one a second) the same connection joins and changes the room.
        await Poll.UntilAsync(
            async () => await RateLimitedJoinAsync(tablet, room) is null,
            TimeSpan.FromSeconds(5),
            "the tablet's Join once the member's bucket refilled");
        (await tablet.SetChoiceAsync(room, "pizza", 2)).Version.Should().Be(version + 2);
    }

    [Fact]
    public async Task TwoConnectionsOfAMemberShareOneBucketAndAnotherMemberHasHisOwn()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "carl");
        await using var phone = await Server.ConnectAsync(token);
        await using var tablet = await Server.ConnectAsync(token);

        // Round-robin: with a bucket per connection the phone's refusal would come only after 2 × Burst Joins.
        var accepted = 0;
        var clock = Stopwatch.StartNew();
        HubErrorException? refused = null;
        while (refused is null && accepted < JoinCap)
        {
            refused = await RateLimitedJoinAsync(accepted % 2 == 0 ? phone : tablet, room);
            accepted += refused is null ? 1 : 0;
        }

        var elapsed = clock.Elapsed;
        refused.Should().NotBeNull($"{JoinCap} Joins of one member in a row were accepted: the Join pace is not enforced");
        refused!.Code.Should().Be(RoomErrorCodes.RateLimited);
        accepted.Should().BeInRange(Burst, Burst + (int)Math.Ceiling(elapsed.TotalSeconds * PerSecond), $"one burst between both connections, in {elapsed.TotalMilliseconds:F0} ms");

        // Another member of the room has a whole burst of his own.
        await using var dave = await Server.ConnectAsync(await Server.TokenAsync(room, "dave"));
        for (var i = 0; i < Burst; i++)
        {
            await dave.InvokeAsync<JoinResult>("Join", room.Id, null);
        }

        counting.Joins(room.Id, "dave").Should().Be(Burst);
    }

    [Fact]
    public async Task AMalformedJoinIsAnsweredAsBeforeAndSpendsNoneOfTheMembersJoins()
    {
        var room = await Server.CreateRoomAsync();
        var other = await Server.CreateRoomAsync();
        await using var carl = await Server.ConnectAsync(await Server.TokenAsync(room, "carl"));

        // Twice the burst of calls read as malformed, or for another room, before any token is taken.
        for (var i = 0; i < 2 * Burst; i++)
        {
            (await carl.RejectedCodeAsync("Join", 42, null)).Should().Be(RoomErrorCodes.InvalidArgument, "a roomId must be a string");
            (await carl.RejectedCodeAsync("Join", "not a room id!", null)).Should().Be(RoomErrorCodes.InvalidArgument);
            (await carl.RejectedCodeAsync("Join", room.Id, new { epoch = room.Epoch, version = -1 })).Should().Be(RoomErrorCodes.InvalidArgument);
            (await carl.RejectedCodeAsync("Join", other.Id, null)).Should().Be(RoomErrorCodes.Forbidden, "the token is for another room");
        }

        counting.Joins(room.Id, "carl").Should().Be(0);
        for (var i = 0; i < Burst; i++)
        {
            await carl.InvokeAsync<JoinResult>("Join", room.Id, null);
        }

        counting.Joins(room.Id, "carl").Should().Be(Burst, "the member's whole burst was left for real Joins");
    }

    /// <summary>Joins until one is refused (at most <see cref="JoinCap"/>): how many were accepted, and the refusal.</summary>
    private static async Task<(int Accepted, HubErrorException Refused)> JoinUntilRefusedAsync(TestRoom room, HubTestClient client)
    {
        for (var accepted = 0; accepted < JoinCap; accepted++)
        {
            if (await RateLimitedJoinAsync(client, room) is { } refused)
            {
                return (accepted, refused);
            }
        }

        throw new Xunit.Sdk.XunitException($"{JoinCap} Joins of one member in a row were accepted: the Join pace is not enforced");
    }

    /// <summary>
    /// A refused first Join of <paramref name="target"/>, after <paramref name="exhauster"/> (the same member) emptied
    /// the bucket, and the store's Joins of the member just before it. A token may come back between the two (one a
    /// second): a target that got in leaves, and it tries again.
    /// </summary>
    private async Task<(HubErrorException Refused, int StoreJoinsBefore)> RefusedFirstJoinAsync(TestRoom room, HubTestClient exhauster, HubTestClient target)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await JoinUntilRefusedAsync(room, exhauster);
            var before = counting.Joins(room.Id, "carl");
            if (await RateLimitedJoinAsync(target, room) is { } refused)
            {
                return (refused, before);
            }

            await target.InvokeAsync("Leave", room.Id);
        }

        throw new Xunit.Sdk.XunitException("the target's Join was accepted right after each of five refusals: the Join pace is not per member");
    }

    /// <summary>The Join's refusal as <c>rate_limited</c>, or null when it was accepted (any other error fails the test).</summary>
    private static async Task<HubErrorException?> RateLimitedJoinAsync(HubTestClient client, TestRoom room)
    {
        try
        {
            await client.InvokeAsync<JoinResult>("Join", room.Id, null);
            return null;
        }
        catch (HubErrorException refused) when (refused.Code == RoomErrorCodes.RateLimited)
        {
            return refused;
        }
    }

    /// <summary>A server whose store counts its Joins per room and member.</summary>
    public interface ICountingServer
    {
        ContractServer Server { get; }

        int Joins(string roomId, string memberId);
    }
}
