using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// One member's view of a room, kept the way DESIGN.md §2 tells a real client to: a Join snapshot or
/// missed events set the position; live events at or below it are ignored, the next one (+1) is
/// applied, anything further is a gap. Tests then compare what each member applied — versions and
/// state — with Redis. It survives a reconnect: <see cref="ReconnectAsync"/> keeps the state and
/// resumes with <c>Join(since)</c>.
/// </summary>
public sealed class RoomFollower : IAsyncDisposable
{
    private static readonly TimeSpan PendingReadLimit = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, int> _choices = new(StringComparer.Ordinal);
    private readonly List<RoomEvent> _applied = [];
    private readonly List<HubTestClient> _previousClients = [];
    private Task<JsonElement>? _nextEvent;
    private Task<JsonElement>? _nextPosition;

    public RoomFollower(TestRoom room, string memberId, string token, HubTestClient client)
    {
        Room = room;
        MemberId = memberId;
        Token = token;
        Client = client;
    }

    public TestRoom Room { get; }

    public string MemberId { get; }

    public string Token { get; }

    public HubTestClient Client { get; private set; }

    /// <summary>Every Join result of this member, first (fresh) to last.</summary>
    public List<JoinResult> Joins { get; } = [];

    /// <summary>The replica that served the latest Join.</summary>
    public string Replica => Joins[^1].Replica;

    /// <summary>The version of the first fresh Join: everything after it must be applied exactly once.</summary>
    public long FirstJoinVersion => Joins[0].Position.Version;

    public string Epoch { get; private set; } = "";

    /// <summary>The applied position.</summary>
    public long Version { get; private set; } = -1;

    /// <summary>"member:menu" → quantity, like <c>rs:{id}:choices</c>.</summary>
    public IReadOnlyDictionary<string, int> Choices => _choices;

    /// <summary>The events applied, in order (from missed lists and live), never a duplicate.</summary>
    public IReadOnlyList<RoomEvent> Applied => _applied;

    /// <summary>Live events that arrived at or below the position and were ignored, as a client must.</summary>
    public int Ignored { get; private set; }

    /// <summary>Joins made to catch up (a gap, or a Position ahead) rather than to connect.</summary>
    public int CatchUpJoins { get; private set; }

    /// <summary>Each gap seen: "expected v, got w".</summary>
    public List<string> Gaps { get; } = [];

    /// <summary>Join(roomId, null) on a fresh connection, or Join(roomId, since = position) to resume.</summary>
    public async Task<JoinResult> JoinAsync(bool resume)
    {
        var since = resume ? new RoomPosition(Epoch, Version) : null;
        var result = await Client.InvokeAsync<JoinResult>("Join", Room.Id, since);
        Joins.Add(result);
        ApplyJoin(result);
        return result;
    }

    /// <summary>
    /// After the connection was lost: applies what the old connection had received, opens a new one
    /// with the same token to <paramref name="baseUrl"/> and resumes with <c>Join(since)</c>.
    /// </summary>
    public async Task<JoinResult> ReconnectAsync(Uri baseUrl, Action<HubTestClientOptions>? configure = null)
    {
        DrainReceived();
        _previousClients.Add(Client);
        _nextEvent = null;
        _nextPosition = null;
        Client = await HubTestClient.ConnectAsync(baseUrl, Token, configure);
        return await JoinAsync(resume: true);
    }

    /// <summary>Applies every event already received on the current connection (for a connection that closed).</summary>
    public void DrainReceived()
    {
        if (_nextEvent is { IsCompletedSuccessfully: true })
        {
            Apply(ToEvent(_nextEvent.Result)); // a gap is recorded in Gaps
        }

        _nextEvent = null;
        while (Client.TryRead("RoomEvent", out var value))
        {
            Apply(ToEvent(value));
        }
    }

    /// <summary>
    /// Reads live events until the position reaches <paramref name="version"/>. Strict (the default):
    /// a gap fails at once — in a healthy cluster pub/sub loses nothing. With <paramref name="catchUp"/>,
    /// it acts like a real client after trouble: a gap, or a <c>Position</c> ahead of it, triggers
    /// <c>Join(since)</c>.
    /// </summary>
    public async Task FollowUntilAsync(long version, TimeSpan timeout, bool catchUp = false)
    {
        var deadline = DateTime.UtcNow + timeout;

        // Bounded by the deadline: each pass applies an event, reads a position or times out.
        while (Version < version)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException(
                    $"{MemberId} (on {Replica}) reached version {Version}, not {version}, within {timeout.TotalSeconds:0.#}s; " +
                    $"gaps: [{string.Join("; ", Gaps)}]; received {Client.Received("RoomEvent").Count} events, last: " +
                    $"{LastReceived()}; connection {(Client.Closed.IsCompleted ? "closed: " + Client.Closed.Result : "open")}");
            }

            _nextEvent ??= Client.NextAsync("RoomEvent", PendingReadLimit);
            if (catchUp)
            {
                _nextPosition ??= Client.NextAsync("Position", PendingReadLimit);
            }

            using var delayCancel = new CancellationTokenSource();
            var delay = Task.Delay(remaining, delayCancel.Token);
            Task[] waits = catchUp && _nextPosition is not null ? [_nextEvent, _nextPosition, delay] : [_nextEvent, delay];
            var done = await Task.WhenAny(waits);
            await delayCancel.CancelAsync();
            if (done == _nextEvent)
            {
                var next = ToEvent(await _nextEvent);
                _nextEvent = null;
                if (!Apply(next))
                {
                    if (!catchUp)
                    {
                        throw new InvalidOperationException(
                            $"{MemberId} (on {Replica}) saw a gap: at version {Version} it received version {next.Version}; gaps: [{string.Join("; ", Gaps)}]");
                    }

                    await CatchUpAsync();
                    Apply(next); // ignored if the Join covered it
                }
            }
            else if (catchUp && done == _nextPosition)
            {
                var position = (await _nextPosition).Deserialize<RoomPositionMessage>(ContractServer.Json)!;
                _nextPosition = null;
                if (position.Epoch != Epoch || position.Version > Version)
                {
                    await CatchUpAsync();
                }
            }
        }
    }

    /// <summary>Every connection's received RoomEvents must be in strictly increasing version order (no duplicate, no reordering).</summary>
    public void AssertEveryConnectionReceivedInOrderOnce()
    {
        foreach (var client in _previousClients.Append(Client))
        {
            var versions = client.Received("RoomEvent").Select(e => e.GetProperty("version").GetInt64()).ToList();
            versions.Should().BeInAscendingOrder($"{MemberId} receives events in version order").And.OnlyHaveUniqueItems($"{MemberId} receives each event once");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _previousClients)
        {
            await client.DisposeAsync();
        }

        await Client.DisposeAsync();
    }

    public override string ToString() => $"{MemberId}@{(Joins.Count > 0 ? Replica : "?")} v{Version}";

    private string LastReceived()
    {
        var all = Client.Received("RoomEvent");
        return all.Count == 0 ? "none" : all[^1].GetRawText();
    }

    private async Task CatchUpAsync()
    {
        CatchUpJoins++;
        await JoinAsync(resume: true);
    }

    private void ApplyJoin(JoinResult result)
    {
        if (result.Snapshot is { } snapshot)
        {
            _choices.Clear();
            foreach (var choice in snapshot.Choices)
            {
                _choices[$"{choice.MemberId}:{choice.MenuId}"] = choice.Quantity;
            }

            Epoch = snapshot.Epoch;
            Version = snapshot.Version;
            return;
        }

        foreach (var missed in result.Missed ?? [])
        {
            if (!Apply(missed))
            {
                throw new InvalidOperationException(
                    $"{MemberId}: Join(since v{Version}) returned missed events that skip: got v{missed.Version}; " +
                    $"missed: [{string.Join(",", result.Missed!.Select(e => e.Version))}]");
            }
        }

        Epoch = result.Position.Epoch;
        result.Position.Version.Should().Be(Version, $"{MemberId}: the missed events of Join(since) end at the position it returns");
    }

    /// <summary>Applies the next event (+1), ignores an old one; false (and a recorded gap) for one further ahead.</summary>
    private bool Apply(RoomEvent next)
    {
        if (next.Epoch == Epoch && next.Version <= Version)
        {
            Ignored++;
            return true;
        }

        if (next.Epoch != Epoch || next.Version != Version + 1)
        {
            Gaps.Add($"expected v{Version + 1}, got v{next.Version}");
            return false;
        }

        if (next.Type == RoomEventTypes.Choice)
        {
            var field = $"{next.MemberId}:{next.MenuId}";
            if (next.Quantity is null or 0)
            {
                _choices.Remove(field);
            }
            else
            {
                _choices[field] = next.Quantity.Value;
            }
        }

        _applied.Add(next);
        Version = next.Version;
        return true;
    }

    private static RoomEvent ToEvent(JsonElement value) => value.Deserialize<RoomEvent>(ContractServer.Json)!;
}
