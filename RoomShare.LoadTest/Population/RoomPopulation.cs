using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using RoomShare.LoadTest.Hub;

namespace RoomShare.LoadTest.Population;

/// <summary>
/// Rooms and their members for one scenario: created through the HTTP API (a room, then a token per
/// member), then connected through nginx and joined with bounded concurrency.
/// </summary>
public sealed class RoomPopulation : IAsyncDisposable
{
    private const int HttpConcurrency = 16;

    private readonly ConcurrentBag<LeanHubConnection> _connections = [];

    private RoomPopulation(IReadOnlyList<Member[]> rooms, IReadOnlyList<string> menuIds, DeliveryTracker tracker)
    {
        Rooms = rooms;
        MenuIds = menuIds;
        Tracker = tracker;
    }

    /// <summary>Members by room index, then by member index.</summary>
    public IReadOnlyList<Member[]> Rooms { get; }

    public IReadOnlyList<string> MenuIds { get; }

    public DeliveryTracker Tracker { get; }

    public int MembersPerRoom => Rooms.Count == 0 ? 0 : Rooms[0].Length;

    public IEnumerable<Member> AllMembers => Rooms.SelectMany(members => members);

    /// <summary>
    /// The smallest quantity cap the members' replicas stated when they joined (a snapshot's <c>maxQuantity</c>;
    /// replicas should agree), or null if none did: a write above any replica's cap would count as failed.
    /// </summary>
    public int? StatedMaxQuantity => AllMembers.Min(member => member.MaxQuantity); // nulls skipped; null when all are

    public IReadOnlyList<LeanHubConnection> Connections => [.. _connections];

    /// <summary>Creates <paramref name="rooms"/> rooms with a menu of <paramref name="menuItems"/> and a token for each of <paramref name="members"/> members.</summary>
    public static async Task<RoomPopulation> CreateAsync(
        RoomApi api, string label, int rooms, int members, int menuItems, CancellationToken cancellationToken)
    {
        var menu = Enumerable.Range(0, menuItems)
            .Select(i => new RoomApi.MenuItemRequest(string.Create(CultureInfo.InvariantCulture, $"m{i}"), $"Dish {i}", 500 + (i * 100)))
            .ToList();
        var tracker = new DeliveryTracker();
        var seats = new Member[rooms][];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, rooms),
            new ParallelOptions { MaxDegreeOfParallelism = HttpConcurrency, CancellationToken = cancellationToken },
            async (room, ct) =>
            {
                var roomId = await api.CreateRoomAsync($"{label} {room}", menu, ct);
                var seat = new Member[members];
                for (var m = 0; m < members; m++)
                {
                    var memberId = string.Create(CultureInfo.InvariantCulture, $"lt{m}");
                    seat[m] = new Member(roomId, room, m, memberId, await api.IssueTokenAsync(roomId, memberId, ct), tracker);
                }

                seats[room] = seat;
            });
        return new RoomPopulation(seats, menu.Select(item => item.Id).ToList(), tracker);
    }

    /// <summary>Connects and joins every member, <paramref name="concurrency"/> at a time; failures are counted, not thrown.</summary>
    public Task<ConnectReport> ConnectAllAsync(HubEndpoint hub, int concurrency, Action<int>? progress, CancellationToken cancellationToken) =>
        ConnectAsync([.. AllMembers], hub, concurrency, progress, cancellationToken);

    /// <summary>
    /// Connects and joins the members of rooms <paramref name="rooms"/> (room indexes), <paramref name="concurrency"/> at a
    /// time; failures are counted, not thrown. The report's members per replica are these rooms' only.
    /// </summary>
    public Task<ConnectReport> ConnectRoomsAsync(Range rooms, HubEndpoint hub, int concurrency, Action<int>? progress, CancellationToken cancellationToken)
    {
        var (first, count) = rooms.GetOffsetAndLength(Rooms.Count);
        return ConnectAsync([.. Rooms.Skip(first).Take(count).SelectMany(members => members)], hub, concurrency, progress, cancellationToken);
    }

    private async Task<ConnectReport> ConnectAsync(IReadOnlyList<Member> members, HubEndpoint hub, int concurrency, Action<int>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var joined = 0;
        var failures = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(
            members,
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (member, ct) =>
            {
                try
                {
                    await ConnectAndJoinAsync(member, hub, ct);
                    progress?.Invoke(Interlocked.Increment(ref joined));
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    failures.Enqueue(ex.Message);
                }
            });
        var perReplica = members.Where(m => m.Replica is not null)
            .GroupBy(m => m.Replica!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new ConnectReport(joined, failures.Count, [.. failures.Take(3)], Stopwatch.GetElapsedTime(started).TotalSeconds, perReplica);
    }

    /// <summary>Connects one member and joins its room, within <see cref="HubEndpoint.CallTimeout"/>.</summary>
    public async Task ConnectAndJoinAsync(Member member, HubEndpoint hub, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(hub.CallTimeout);
        member.Reset();
        var connection = await LeanHubConnection.ConnectAsync(
            hub.Uri, hub.Wire, member.Token, hub.RoomHint ? member.RoomId : null, hub.WebClient, hub.Invoker, member, deadline.Token);
        _connections.Add(connection);
        member.Connection = connection;
        await connection.JoinAsync(member.RoomId, deadline.Token);
    }

    /// <summary>Closes every connection (close handshake, bounded), a few hundred at a time.</summary>
    public async Task CloseAllAsync()
    {
        var all = Connections;
        _connections.Clear();
        await Parallel.ForEachAsync(
            all,
            new ParallelOptions { MaxDegreeOfParallelism = 256 },
            async (connection, _) => await connection.DisposeAsync());
    }

    public async ValueTask DisposeAsync() => await CloseAllAsync();
}

/// <summary>How connecting went: joined members, failures (with a few messages), time, members per replica.</summary>
public sealed record ConnectReport(int Joined, int Failed, IReadOnlyList<string> FailureSamples, double Seconds, IReadOnlyDictionary<string, int> PerReplica)
{
    /// <summary>Two connecting rounds as one: counts and times added, members per replica summed.</summary>
    public ConnectReport Then(ConnectReport next) => new(
        Joined + next.Joined,
        Failed + next.Failed,
        [.. FailureSamples.Concat(next.FailureSamples).Take(3)],
        Seconds + next.Seconds,
        PerReplica.Concat(next.PerReplica)
            .GroupBy(pair => pair.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(pair => pair.Value), StringComparer.Ordinal));
}
