using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// A Redis Cluster answers <c>TRYAGAIN</c> to a command naming several keys of a slot that is being
/// migrated (a reshard) when the node holds some of those keys and not others. A room's scripts name
/// its keys (nine or more), and a room never has all of them at once (the old history list is gone
/// for good, the idempotency window and the rate bucket come and go), so while a room's slot migrates
/// each of its scripts is refused; so are the order outbox's multi-key scripts. A refused script did
/// not run, so sending it again is safe: this does, after short growing pauses, until the migration
/// ends (the slot's new master then answers, the client following its <c>MOVED</c>) or no pause
/// would end before the caller's deadline.
/// </summary>
public static class UnstableSlotRetry
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Runs <paramref name="call"/>, again while it is refused with <c>TRYAGAIN</c>; no pause starts that
    /// would end past <paramref name="within"/>, and none that overslept it (a busy box) is followed by
    /// a resend: then the last refusal is thrown.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> call, TimeSpan within, TimeProvider time)
    {
        var started = time.GetTimestamp();
        var pause = FirstPause;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (RedisServerException ex) when (IsUnstableSlot(ex) && time.GetElapsedTime(started) + pause < within)
            {
                await Task.Delay(pause, time);
                if (time.GetElapsedTime(started) >= within)
                {
                    throw;
                }

                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
            }
        }
    }

    private static bool IsUnstableSlot(RedisServerException ex) => ex.Kind == RedisErrorKind.TryAgain;
}
