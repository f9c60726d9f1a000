using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json;
using System.Threading.Channels;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// The reading side both hub clients share: a <see cref="HubInbox"/> per target, the end of the
/// connection (which completes them all), and the awaits whose timeouts say what arrived instead.
/// <see cref="RawHubClient"/> records whatever target the server names (<see cref="ForAnyTarget"/>);
/// <see cref="HubTestClient"/> only the targets it registered (<see cref="ForTargets"/>), and an
/// unknown one fails naming how to add it.
/// </summary>
internal sealed class HubInboxes
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly IReadOnlyDictionary<string, HubInbox> _inboxes;
    private readonly ConcurrentDictionary<string, HubInbox>? _growing; // null: a fixed set of targets
    private readonly Func<string> _openState;
    private readonly Func<IReadOnlyCollection<string>>? _dropped;
    private readonly TaskCompletionSource<string?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HubInboxes(
        IReadOnlyDictionary<string, HubInbox> inboxes,
        Func<string> openState,
        Func<IReadOnlyCollection<string>>? dropped)
    {
        _inboxes = inboxes;
        _growing = inboxes as ConcurrentDictionary<string, HubInbox>;
        _openState = openState;
        _dropped = dropped;
    }

    /// <summary>
    /// Completes when the connection ends: with its error, or null for a clean close. The first
    /// <see cref="TryClose"/> decides.
    /// </summary>
    public Task<string?> Closed => _closed.Task;

    /// <summary>
    /// An inbox per target, created when the server (or a test) first names it. <paramref name="openState"/>
    /// is what timeout messages say of the connection while it is open.
    /// </summary>
    public static HubInboxes ForAnyTarget(Func<string> openState) =>
        new(new ConcurrentDictionary<string, HubInbox>(StringComparer.Ordinal), openState, dropped: null);

    /// <summary>
    /// An inbox for each of <paramref name="targets"/> and no other. Timeout messages say
    /// <paramref name="openState"/> of the open connection and list the <paramref name="dropped"/>
    /// messages, those that reached no inbox because their binding failed.
    /// </summary>
    public static HubInboxes ForTargets(
        IEnumerable<string> targets,
        Func<string> openState,
        Func<IReadOnlyCollection<string>> dropped) =>
        new(targets.ToFrozenDictionary(t => t, _ => new HubInbox(), StringComparer.Ordinal), openState, dropped);

    /// <summary>The inbox of <paramref name="target"/>, for the receiving side to add to.</summary>
    public HubInbox For(string target)
    {
        if (_growing is not null)
        {
            var inbox = _growing.GetOrAdd(target, _ => new HubInbox());
            if (_closed.Task.IsCompleted)
            {
                inbox.Complete(); // a target first asked for after the close must not wait for nothing
            }

            return inbox;
        }

        return _inboxes.TryGetValue(target, out var known)
            ? known
            : throw new InvalidOperationException(
                $"'{target}' is not a recorded target (recorded: {string.Join(", ", _inboxes.Keys)}); add it with {nameof(HubTestClientOptions)}.{nameof(HubTestClientOptions.AddTarget)}");
    }

    /// <summary>
    /// Records the end of the connection and completes every inbox (buffered values stay readable);
    /// false when it had already ended.
    /// </summary>
    public bool TryClose(string? error)
    {
        if (!_closed.TrySetResult(error))
        {
            return false;
        }

        // A target added concurrently by For sees the close there; this covers the ones before it.
        foreach (var inbox in _inboxes.Values)
        {
            inbox.Complete();
        }

        return true;
    }

    public async Task<JsonElement> NextAsync(string target, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var inbox = For(target);
        using var cts = new CancellationTokenSource(limit);
        try
        {
            return await inbox.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"No '{target}' within {limit.TotalSeconds:0.#}s; on '{target}': {inbox.Describe()}; {DescribeOthers(target)}");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException(
                $"Connection closed ({_closed.Task.Result ?? "no error"}) while waiting for '{target}'; on '{target}': {inbox.Describe()}");
        }
    }

    public bool TryRead(string target, out JsonElement value) => For(target).Reader.TryRead(out value);

    public async Task<JsonElement> WaitForAsync(string target, Func<JsonElement, bool> predicate, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        var skipped = new List<string>();

        // Bounded by the deadline: each pass consumes one value or times out.
        while (true)
        {
            var remaining = deadline - DateTime.UtcNow;
            JsonElement value;
            try
            {
                value = await NextAsync(target, remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
            }
            catch (TimeoutException)
            {
                throw new TimeoutException(
                    $"No matching '{target}' within {limit.TotalSeconds:0.#}s; skipped {skipped.Count}: [{string.Join(", ", skipped.TakeLast(5))}]; {DescribeOthers(target)}");
            }

            if (predicate(value))
            {
                return value;
            }

            skipped.Add(value.GetRawText());
        }
    }

    public IReadOnlyList<JsonElement> Received(string target) => For(target).Received();

    private string DescribeOthers(string target)
    {
        var others = _inboxes.Where(pair => pair.Key != target).Select(pair => $"'{pair.Key}': {pair.Value.Received().Count}").ToList();
        var state = _closed.Task.IsCompleted ? $"closed ({_closed.Task.Result ?? "no error"})" : _openState();
        var dropped = _dropped?.Invoke() ?? [];
        return $"other targets: {(others.Count == 0 ? "none" : string.Join(", ", others))}; "
            + (dropped.Count == 0 ? string.Empty : $"dropped (binding failed): [{string.Join("; ", dropped.TakeLast(5))}]; ")
            + $"connection {state}";
    }
}
