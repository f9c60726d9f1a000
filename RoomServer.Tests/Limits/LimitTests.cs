using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// The limits of README "Limits" (DESIGN.md §5, §6), run embedded and against Redis with the small
/// values of <see cref="LimitSettings"/>. Split by area into partial files. Each refusal is checked
/// like every other §5 error: its code, the unchanged state, and no event.
/// </summary>
public abstract partial class LimitTests(ContractServer server)
{
    /// <summary>Calls past this many without a refusal mean the limit is not enforced.</summary>
    private const int WriteCap = 4 * LimitSettings.MemberOpsBurst;

    protected ContractServer Server { get; } = server;

    /// <summary>A room with two members joined, the second (<c>bob</c>) an observer with a bucket of his own.</summary>
    protected async Task<(TestRoom Room, JoinedMember Ann, JoinedMember Bob)> RoomWithTwoMembersAsync()
    {
        var room = await Server.CreateRoomAsync();
        var ann = await Server.JoinAsync(room, "ann");
        var bob = await Server.JoinAsync(room, "bob");
        return (room, ann, bob);
    }

    /// <summary>
    /// AdjustChoice(pizza, +1) round-robin over <paramref name="clients"/> until one is refused (at most
    /// <see cref="WriteCap"/> calls). Returns how many were acknowledged and the refusal's code.
    /// </summary>
    protected static async Task<(int Accepted, string Code)> WriteUntilRefusedAsync(TestRoom room, params HubTestClient[] clients)
    {
        for (var i = 0; i < WriteCap; i++)
        {
            try
            {
                await clients[i % clients.Length].AdjustChoiceAsync(room, "pizza", 1);
            }
            catch (HubErrorException refused)
            {
                // The message names the limit reached (DESIGN §5).
                var named = refused.Message.Contains(
                    $"at most {LimitSettings.MemberOpsPerSecond} writes a second, bursts of {LimitSettings.MemberOpsBurst}", StringComparison.Ordinal);
                return (i, refused.Code == RoomErrorCodes.RateLimited && !named ? "rate_limited without naming its limit: " + refused.Message : refused.Code);
            }
        }

        throw new Xunit.Sdk.XunitException($"{WriteCap} writes in a row were accepted: the member's write rate is not enforced");
    }

    /// <summary>
    /// After a refused write: the room is at <paramref name="version"/>, and the observer's next change
    /// takes the very next version, its event right after the last accepted one: nothing was published.
    /// </summary>
    protected async Task AssertNothingChangedAsync(TestRoom room, JoinedMember observer, long version)
    {
        (await Server.SnapshotAsync(room)).Version.Should().Be(version, "a refused write changes no state");
        (await observer.Client.AdjustChoiceAsync(room, "cola", 1)).Version.Should().Be(version + 1);
        await observer.Client.SkipEventsThroughAsync(version);
        var next = await observer.Client.NextEventShouldBeAsync(version + 1);
        next.MemberId.Should().Be(observer.MemberId, "a refused write sends no event");
    }
}

[Trait("Suite", "Limits")]
public sealed class EmbeddedLimitTests(EmbeddedLimitsServer server)
    : LimitTests(server), IClassFixture<EmbeddedLimitsServer>;

[Trait("Suite", "Limits")]
public sealed class RedisLimitTests(RedisLimitsServer server)
    : LimitTests(server), IClassFixture<RedisLimitsServer>;
