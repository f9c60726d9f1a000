using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Paces a member's <c>Join</c> calls to a room on this replica, across all their connections here
/// (<c>RoomServer__Limits__MemberJoinsPerSecond</c>, bursts of <c>MemberJoinBurst</c>). Each Join runs a store
/// script that reads the room's presence (Redis <c>join.lua</c>), and the per-connection call budget times the
/// member's open connections let one member run about a thousand a second. Past it the Join is
/// <c>rate_limited</c> before the connection enters the room: it changes nothing, and the connection stays
/// open to Join again a moment later.
/// </summary>
public sealed class MemberJoinRate(IOptions<RoomServerOptions> options, TimeProvider time)
    : MemberCallRate(new MemberOpRate(options.Value.Limits.MemberJoinsPerSecond, options.Value.Limits.MemberJoinBurst), time)
{
    // No "room is full" or "open connections" here: the web client reads those as counts that only a leave frees
    // (errors.js joinLimit), and this one is a rate, which a moment's wait frees.
    protected override string Refusal =>
        $"this member is joining the room too fast (at most {Rate.PerSecond} Joins a second, bursts of {Rate.Burst}); wait a moment and Join again";
}
