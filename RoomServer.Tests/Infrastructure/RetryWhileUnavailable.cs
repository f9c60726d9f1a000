using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Retries a hub call that answers <c>unavailable</c>, as DESIGN.md §5 tells a client to. For tests whose
/// subject is not the store's deadline but that a loaded box can push past it (CI has).
/// </summary>
public static class RetryWhileUnavailable
{
    /// <summary>The call, retried (at most <paramref name="attempts"/> times in all, half a second apart) while it answers <c>unavailable</c>.</summary>
    public static async Task<T> CallAsync<T>(Func<Task<T>> call, int attempts = 3, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(call);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (HubErrorException ex) when (ex.Code == RoomErrorCodes.Unavailable && attempt < attempts)
            {
                log?.Invoke($"attempt {attempt} answered {ex.ErrorText}; retrying");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }
}
