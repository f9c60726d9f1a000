using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Paces the store reads of a member's room calls made before <c>Join</c>, on this replica. Such a call is
/// refused either way, but telling a removed member (<c>forbidden</c>) from one who has not joined yet
/// ("call Join first") costs a read of the member's removal generation (DESIGN.md §3), and no write script —
/// whose bucket the member's writes draw on — runs to pace it. So each read takes a token from a bucket of the
/// member's (room and member, all their connections here) at the member's write rate
/// (<c>RoomServer__Limits__MemberOpsPerSecond</c>, bursts of <c>MemberOpsBurst</c>); past it the call is
/// <c>rate_limited</c> without asking the store. The answer is never remembered: a removal right after a read
/// is <c>forbidden</c> on the next call, not "call Join first" (a removed answer is kept by RoomMembership).
/// </summary>
public sealed class NotJoinedCheckRate(IOptions<RoomServerOptions> options, TimeProvider time)
    : MemberCallRate(options.Value.Limits.ForRooms().MemberOps, time)
{
    protected override string Refusal =>
        $"this member is calling the room before Join too fast (at most {Rate.PerSecond} such calls a second, bursts of {Rate.Burst}); call Join(roomId, since) first";
}
