using System.Diagnostics;
using System.Globalization;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Waits for what another process does (a replica's log line, Redis state, a TCP queue, an HTTP
/// answer) by polling, bounded by a timeout, instead of sleeping a fixed time: a test is as quick as
/// the system allows and fails with what it was waiting for.
/// </summary>
public static class Poll
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Until <paramref name="condition"/> holds; a <see cref="TimeoutException"/> naming <paramref name="what"/> if it does not within <paramref name="timeout"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, () => what);

    /// <summary>As above; <paramref name="describe"/> is read only on a timeout, so it can say how far things got.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, describe);

    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        UntilAsync(condition, timeout, () => what);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"not within {timeout.TotalSeconds:0.#} s: {describe()}"));
            }

            await Task.Delay(DefaultInterval);
        }
    }

    /// <summary>
    /// Reads until a value is <paramref name="settled"/>, and returns it; a <see cref="TimeoutException"/>
    /// with <paramref name="describe"/> of the last value read if none is within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<T> ForAsync<T>(Func<Task<T>> read, Func<T, bool> settled, TimeSpan timeout, Func<T, string> describe)
    {
        var last = await UntilSettledAsync(read, settled, timeout);
        return settled(last)
            ? last
            : throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"not within {timeout.TotalSeconds:0.#} s: {describe(last)}"));
    }

    /// <summary>
    /// Reads until a value is <paramref name="settled"/>, and returns it; when <paramref name="timeout"/>
    /// runs out, returns the last value read instead, for the caller to assert on (so the failure shows it).
    /// </summary>
    public static async Task<T> UntilSettledAsync<T>(Func<Task<T>> read, Func<T, bool> settled, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (settled(value) || clock.Elapsed > timeout)
            {
                return value;
            }

            await Task.Delay(DefaultInterval);
        }
    }
}
