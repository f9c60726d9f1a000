using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Paces one kind of a member's hub calls on this replica: each takes a token from a bucket of the member's
/// (room and member, all their connections here, <see cref="MemberTokenBuckets"/>); past it the call is
/// <c>rate_limited</c>, with a message that names the limit (DESIGN.md §5), before it costs the store anything.
/// </summary>
public abstract class MemberCallRate : IDisposable
{
    private readonly MemberTokenBuckets _buckets;

    protected MemberCallRate(MemberOpRate rate, TimeProvider time)
    {
        Rate = rate;
        _buckets = new MemberTokenBuckets(rate, time);
    }

    /// <summary>The pace: <see cref="MemberOpRate.PerSecond"/> sustained, <see cref="MemberOpRate.Burst"/> at once.</summary>
    protected MemberOpRate Rate { get; }

    /// <summary>The refusal's message: which calls, and the limit with its values.</summary>
    protected abstract string Refusal { get; }

    /// <summary>Takes a token from the member's bucket, or refuses the call with <c>rate_limited</c> (<see cref="Refusal"/>).</summary>
    public void Take(HubMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (!_buckets.TryTake(member.RoomId + "/" + member.MemberId, out _))
        {
            throw new RoomException(RoomErrorCodes.RateLimited, Refusal);
        }
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _buckets.Dispose();
        }
    }
}
