using System.Diagnostics;
using System.Globalization;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// The workload every fault runs under: rooms of <see cref="ChaosClient"/>s writing at random, with
/// one <see cref="History"/>. A test starts it, waits for acknowledged writes, breaks something,
/// heals it, waits again, and ends with <see cref="FinishAsync"/>: the clients stop, catch up, and
/// <see cref="HistoryChecker"/> judges the evidence — failing the test on any violation.
/// </summary>
public sealed class ChaosRun : IAsyncDisposable
{
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private readonly ChaosFixture _cluster;
    private readonly ITestOutputHelper _output;
    private readonly List<ChaosClient> _clients;
    private readonly List<Task> _loops = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private volatile bool _stopping;

    private ChaosRun(ChaosFixture cluster, ITestOutputHelper output, ChaosProfile profile, int seed, History history, List<TestRoom> rooms, List<ChaosClient> clients)
    {
        _cluster = cluster;
        _output = output;
        Profile = profile;
        Seed = seed;
        History = history;
        Rooms = rooms;
        _clients = clients;
    }

    public ChaosProfile Profile { get; }

    public int Seed { get; }

    public History History { get; }

    public IReadOnlyList<TestRoom> Rooms { get; }

    public IReadOnlyList<ChaosClient> Clients => _clients;

    /// <summary>Acknowledged writes so far.</summary>
    public int Acknowledged => History.Ops.Count(o => o.Outcome.Kind == OpOutcomeKind.Ok);

    /// <summary>
    /// Creates the rooms and joins the clients: straight to the replicas in turn (so every replica
    /// has members, whichever one a fault hits), or through nginx with <paramref name="viaNginx"/>, which
    /// puts each room's clients on that room's replica (their tokens name it, DESIGN.md §7): the tests through
    /// nginx are about nginx's own faults, and the others carry every room's events across replicas.
    /// With <paramref name="writing"/> the clients start their write loops at once.
    /// </summary>
    public static async Task<ChaosRun> StartAsync(ChaosFixture cluster, ITestOutputHelper output, int defaultSeed, bool viaNginx = false, bool writing = true, ChaosProfile? profile = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(output);
        var chosen = profile ?? ChaosProfile.Current;
        var seed = ChaosProfile.Seed(defaultSeed);
        output.WriteLine($"chaos profile {chosen.Name}, seed {seed} (replay with ROOMSHARE_CHAOS_SEED={seed})");
        var history = new History();
        history.AddSecret(cluster.ApiKey);
        history.AddSecret(cluster.SigningKey);
        var rooms = new List<TestRoom>();
        var clients = new List<ChaosClient>();

        // A run starts on a ready cluster: a replica is up (/healthz) before it is ready, and the fault of the class's
        // test before may still be clearing. Its rooms are created through nginx, and a replica that cannot serve yet
        // answers 503, which nginx does not retry (a CI flake).
        await cluster.WaitForReadyStatusAsync(200, TimeSpan.FromSeconds(30));
        try
        {
            for (var r = 0; r < chosen.Rooms; r++)
            {
                var room = await cluster.CreateRoomAsync();
                rooms.Add(room);
                for (var c = 0; c < chosen.ClientsPerRoom; c++)
                {
                    var n = clients.Count;
                    var via = viaNginx ? cluster.BaseUrl : cluster.Replicas[n % cluster.Replicas.Count].BaseUrl;
                    clients.Add(await ChaosClient.JoinAsync(cluster, history, room, $"m{n.ToString(CultureInfo.InvariantCulture)}", via, seed + n));
                }
            }
        }
        catch
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
            throw;
        }

        var run = new ChaosRun(cluster, output, chosen, seed, history, rooms, clients);
        output.WriteLine($"{clients.Count} clients in {rooms.Count} rooms: {string.Join(", ", clients.Select(c => $"{c.Name}@{c.Follower.Replica}"))}");
        if (writing)
        {
            run.StartWriting();
        }

        return run;
    }

    /// <summary>Adds a client the test made itself (another device, a late joiner): it is caught up and checked too.</summary>
    public void Adopt(ChaosClient client) => _clients.Add(client);

    public void StartWriting()
    {
        foreach (var client in _clients)
        {
            _loops.Add(Task.Run(() => client.RunAsync(() => _stopping || _clock.Elapsed > ChaosProfile.MaxRunLength, ChaosProfile.MaxOpsPerClient, Profile.Pacing)));
        }
    }

    /// <summary>Waits (bounded) until <paramref name="count"/> more writes have been acknowledged than now.</summary>
    public async Task MoreAcknowledgedAsync(int count, TimeSpan timeout)
    {
        var target = Acknowledged + count;
        var deadline = DateTime.UtcNow + timeout;
        while (Acknowledged < target)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Acknowledged} writes acknowledged, not {target}, within {timeout.TotalSeconds:0}s; history: {History.Summary()}\n{_cluster.Logs(4000)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>A phase of the profile's size: <see cref="ChaosProfile.AcknowledgedPerPhase"/> more acknowledged writes.</summary>
    public Task PhaseAsync() => MoreAcknowledgedAsync(Profile.AcknowledgedPerPhase, TimeSpan.FromSeconds(90));

    /// <summary>
    /// Stops the writers, waits until every live replica is ready, brings every client to the final
    /// version of its room, gathers the evidence and fails the test on any violation. Returns it.
    /// </summary>
    public async Task<HistoryEvidence> FinishAsync()
    {
        _stopping = true;
        await Task.WhenAll(_loops).WaitAsync(StopTimeout);
        await _cluster.WaitForReadyStatusAsync(200, TimeSpan.FromSeconds(30));

        var finals = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var room in Rooms)
        {
            finals[room.Id] = await _cluster.RedisVersionAsync(room);
        }

        await Task.WhenAll(_clients.Select(c => c.CatchUpAsync(finals[c.Room.Id], CatchUpTimeout)));
        var evidence = await ChaosEvidence.GatherAsync(_cluster, History, Rooms, _clients);
        var violations = HistoryChecker.Check(evidence);
        _output.WriteLine($"after {_clock.Elapsed.TotalSeconds:0.0}s: {History.Count} writes ({History.Summary()}); final versions " +
            $"{string.Join(", ", finals.Select(f => $"{f.Key}=v{f.Value}"))}; reconnects {_clients.Sum(c => c.Reconnects)}, catch-up joins {_clients.Sum(c => c.Follower.CatchUpJoins)}; checker: {HistoryChecker.Describe(violations, 5)}");
        violations.Should().BeEmpty($"the history must satisfy every property (seed {Seed}):\n{HistoryChecker.Describe(violations)}\n{_cluster.Logs(3000)}");
        return evidence;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        await Task.WhenAny(Task.WhenAll(_loops), Task.Delay(StopTimeout));
        await Task.WhenAll(_clients.Select(c => c.DisposeAsync().AsTask()));
    }
}
