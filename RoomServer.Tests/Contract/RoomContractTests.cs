using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The room contract of DESIGN.md §2–§5. Every storage mode runs this whole suite through a subclass
/// (embedded and Redis), against a real server over real WebSockets and HTTP. Split by area into
/// partial files: Join, Choices, Lifecycle, Errors, Auth, Api, Presence.
/// </summary>
public abstract partial class RoomContractTests(ContractServer server)
{
    protected ContractServer Server { get; } = server;

    protected async Task<(TestRoom Room, JoinedMember Member)> RoomWithMemberAsync(string memberId = "ann", string role = "member")
    {
        var room = await Server.CreateRoomAsync();
        var member = await Server.JoinAsync(room, memberId, role);
        await member.Client.NextEventShouldBeAsync(member.Joined.Position.Version);
        return (room, member);
    }

    /// <summary>After a rejected call: the version is unchanged, and the next event is the barrier change's.</summary>
    protected async Task AssertNothingChangedAsync(TestRoom room, JoinedMember observer, long version)
    {
        (await Server.SnapshotAsync(room)).Version.Should().Be(version, "a rejected call changes no state");
        var barrier = await observer.Client.AdjustChoiceAsync(room, "cola", 1);
        barrier.Version.Should().Be(version + 1);
        var next = await observer.Client.NextEventAsync();
        next.Version.Should().Be(version + 1, "a rejected call sends no event");
        next.Type.Should().Be(RoomEventTypes.Choice);
    }
}

[Trait("Suite", "Contract")]
public sealed class EmbeddedRoomContractTests(EmbeddedContractServer server)
    : RoomContractTests(server), IClassFixture<EmbeddedContractServer>;

[Trait("Suite", "Contract")]
public sealed class RedisRoomContractTests(RedisContractServer server)
    : RoomContractTests(server), IClassFixture<RedisContractServer>;
