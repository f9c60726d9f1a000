namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// One room's per-member token buckets (RoomServer__Limits__MemberOpsPerSecond / MemberOpsBurst):
/// every accepted write of a member takes one token; tokens refill at the rate up to the burst.
/// Embedded mode keeps it beside the room, under the room's lock; the Redis scripts do the same in
/// <c>rs:{id}:rate</c> (prelude.lua take_member_op), so both modes refuse the same calls. A refused
/// take writes nothing: a rejected call changes no state, not even the bucket's.
/// </summary>
public sealed class MemberOpBuckets(MemberOpRate rate, TimeProvider time)
{
    /// <summary>The writer of the API's changes (<c>by: api</c>): limited per API key over HTTP, not here.</summary>
    public const string ApiCaller = "api";

    private readonly Dictionary<string, (double Tokens, long LastMs)> _buckets = new(StringComparer.Ordinal);

    /// <summary>Takes one token from the member's bucket, or returns false (and changes nothing).</summary>
    public bool TryTake(string memberId)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var tokens = _buckets.TryGetValue(memberId, out var bucket)
            ? rate.Refill(bucket.Tokens, bucket.LastMs, now)
            : rate.Burst;
        if (tokens < 1)
        {
            return false;
        }

        _buckets[memberId] = (tokens - 1, now);
        return true;
    }

    /// <summary>Refuses with <c>rate_limited</c> when the member's bucket is empty.</summary>
    public void Take(string memberId)
    {
        if (!TryTake(memberId))
        {
            throw RoomLimits.WritesTooFast(rate);
        }
    }

    /// <summary><see cref="Take"/> for an owner's write; the API's (<c>by: api</c>) passes.</summary>
    public void TakeFor(string by)
    {
        if (by != ApiCaller)
        {
            Take(by);
        }
    }
}

/// <summary>A member's write rate: <see cref="PerSecond"/> sustained, <see cref="Burst"/> at once.</summary>
public sealed record MemberOpRate(int PerSecond, int Burst)
{
    /// <summary>The bucket after refilling from <paramref name="lastMs"/> to <paramref name="nowMs"/> (a clock going back refills nothing).</summary>
    public double Refill(double tokens, long lastMs, long nowMs) =>
        Math.Min(Burst, tokens + (Math.Max(0, nowMs - lastMs) * PerSecond / 1000.0));

    /// <summary>The script argument <c>perSecond:burst</c> (prelude.lua take_member_op).</summary>
    public string ScriptArgument => FormattableString.Invariant($"{PerSecond}:{Burst}");
}
