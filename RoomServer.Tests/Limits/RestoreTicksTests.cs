using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// The ticks a replica runs after its backplane says "restored" (DESIGN.md §9): each resends the room's presence to
/// its local members. While the store is away the backplane re-subscribes every few seconds and says "restored"
/// after each pass, so a replica may hear it many times before the store answers again: a room gets at most one
/// restore tick waiting and one running, not one per pass queued for the whole outage. And a room whose only
/// connection is still joining when the restore is heard gets its catch-up too.
/// </summary>
[Trait("Suite", "Limits")]
public sealed class RestoreTicksTests(RestoreTicksServer server) : IClassFixture<RestoreTicksServer>
{
    private const int Restores = 40;

    [Fact]
    public async Task RestoresHeardWhileARoomsTickWaitsOnTheStoreAddAtMostOneMoreTick()
    {
        var room = await server.CreateRoomAsync();
        await using var member = await server.JoinAsync(room, "mia");

        // The Join's own presence catch-up came before its answer.
        while (member.Client.TryRead(RoomClientMethods.Presence, out _))
        {
        }

        var gate = server.HoldSweeps(room.Id);
        server.SnapshotReads.TryRemove(room.Id, out _);

        // The first restore's tick waits on the store (a periodic tick of the room may be waiting there too); every
        // later restore finds it waiting or running. (The fixture's other test may have raised restores before.)
        var heardBefore = server.RestoresHeard;
        server.Backplane.RaiseRestored(null);
        await Poll.UntilAsync(() => server.SweepsHeld(room.Id) > 0, TimeSpan.FromSeconds(10), "a sweep of the room reached the store");
        for (var i = 1; i < Restores; i++)
        {
            server.Backplane.RaiseRestored(i % 2 == 0 ? null : [room.Id]);
        }

        // Each restore is heard on the thread pool: the store answers only once all of them have been.
        await Poll.UntilAsync(() => server.RestoresHeard - heardBefore >= Restores, TimeSpan.FromSeconds(10), () => $"{server.RestoresHeard - heardBefore} restores heard of {Restores}");

        // The store answers again: the restore tick, and at most one more that a restore during it asked for.
        gate.SetResult();
        await Poll.UntilAsync(() => server.SnapshotReads.GetValueOrDefault(room.Id) >= 1, TimeSpan.FromSeconds(10), "the restore tick's presence catch-up");
        await Task.Delay(TimeSpan.FromSeconds(2));
        server.SnapshotReads.GetValueOrDefault(room.Id).Should().BeInRange(1, 2, $"{Restores} restores heard while a tick waited or ran ask for one more at most, not {Restores} ticks");

        // Each restore tick sends every member's presence once.
        var presences = 0;
        await Poll.UntilAsync(
            () =>
            {
                while (member.Client.TryRead(RoomClientMethods.Presence, out var presence))
                {
                    presence.GetProperty("memberId").GetString().Should().Be("mia");
                    presences++;
                }

                return presences == server.SnapshotReads.GetValueOrDefault(room.Id);
            },
            TimeSpan.FromSeconds(5),
            () => $"{presences} presences for {server.SnapshotReads.GetValueOrDefault(room.Id)} restore ticks");
    }

    [Fact]
    public async Task ARoomWhoseOnlyConnectionIsStillJoiningGetsTheRestoresPresenceCatchUp()
    {
        var room = await server.CreateRoomAsync();
        await using var client = await server.ConnectAsync(await server.TokenAsync(room, "jo"));
        var joinAnswered = server.HoldJoinAnswers(room.Id);
        server.SnapshotReads.TryRemove(room.Id, out _);

        var join = client.InvokeAsync("Join", room.Id, null);
        await Poll.UntilAsync(() => server.JoinsHeld(room.Id) > 0, TimeSpan.FromSeconds(10), "the Join reached the store");
        server.Backplane.RaiseRestored(null);
        await Poll.UntilAsync(() => server.SnapshotReads.GetValueOrDefault(room.Id) > 0, TimeSpan.FromSeconds(10),
            "the restore's presence catch-up of a room whose connection is still joining");

        // Kept for the connection until its Join is admitted, then written before the Join's own catch-up.
        joinAnswered.SetResult();
        await join;
        var presences = 0;
        await Poll.UntilAsync(
            () =>
            {
                while (client.TryRead(RoomClientMethods.Presence, out var presence))
                {
                    presence.GetProperty("memberId").GetString().Should().Be("jo");
                    presence.GetProperty("online").GetBoolean().Should().BeTrue();
                    presences++;
                }

                return presences >= 2;
            },
            TimeSpan.FromSeconds(5),
            () => $"the restore's and the Join's presence of jo ({presences} so far)");
    }

    [Fact]
    public async Task ARestoresPresenceCatchUpTheStoreCouldNotAnswerIsSentByTheRoomsNextTick()
    {
        var room = await server.CreateRoomAsync();
        await using var member = await server.JoinAsync(room, "noa");
        while (member.Client.TryRead(RoomClientMethods.Presence, out _))
        {
        }

        // The restore's tick answers, but its catch-up read finds the store away; no restore comes again.
        server.FailNextSnapshotRead(room.Id);
        server.Backplane.RaiseRestored([room.Id]);
        await Poll.UntilAsync(() => server.SnapshotReadsFailed(room.Id) == 1, TimeSpan.FromSeconds(10), "the restore's presence catch-up was read and failed");

        // The room's next ticks (every second here) send it instead.
        var caughtUp = false;
        await Poll.UntilAsync(
            () =>
            {
                while (member.Client.TryRead(RoomClientMethods.Presence, out var presence))
                {
                    presence.GetProperty("memberId").GetString().Should().Be("noa");
                    presence.GetProperty("online").GetBoolean().Should().BeTrue();
                    caughtUp = true;
                }

                return caughtUp;
            },
            TimeSpan.FromSeconds(10),
            "the presence catch-up the failed read owed, sent by a later tick");
        server.SnapshotReadsFailed(room.Id).Should().Be(1);
    }
}

/// <summary>
/// A limits server whose backplane can be made to say "restored" (<see cref="RaisableBackplane"/>), and whose store
/// can hold a room's sweeps or its Join's answer until the test lets them go, and counts each room's snapshot reads
/// (a restore tick's presence catch-up is one).
/// </summary>
public sealed class RestoreTicksServer : EmbeddedLimitsServer
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _heldSweeps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _heldJoins = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _sweepsHeld = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _joinsHeld = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, int> _snapshotReadsToFail = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _snapshotReadsFailed = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> SnapshotReads { get; } = new(StringComparer.Ordinal);

    /// <summary>The room's next snapshot read answers <c>unavailable</c>, as a store away does.</summary>
    public void FailNextSnapshotRead(string roomId) => _snapshotReadsToFail[roomId] = 1;

    public int SnapshotReadsFailed(string roomId) => _snapshotReadsFailed.GetValueOrDefault(roomId);

    public RaisableBackplane Backplane => (RaisableBackplane)Services.GetRequiredService<IRoomBackplane>();

    /// <summary>From now on the room's sweeps wait until the returned source is set.</summary>
    public TaskCompletionSource HoldSweeps(string roomId) =>
        _heldSweeps[roomId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>From now on a Join of the room runs in the store, and its answer waits until the returned source is set.</summary>
    public TaskCompletionSource HoldJoinAnswers(string roomId) =>
        _heldJoins[roomId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public int SweepsHeld(string roomId) => _sweepsHeld.GetValueOrDefault(roomId);

    public int JoinsHeld(string roomId) => _joinsHeld.GetValueOrDefault(roomId);

    /// <summary>How many restores the ticker has taken its rooms' ticks for (its log line 2005 comes after).</summary>
    public int RestoresHeard => Services.GetFakeLogCollector().GetSnapshot().Count(r => r.Id.Id == 2005);

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddFakeLogging();
        var original = services.Last(d => d.ServiceType == typeof(IRoomBackplane));
        services.Remove(original);
        services.AddSingleton<IRoomBackplane>(sp => new RaisableBackplane((IRoomBackplane)original.ImplementationFactory!(sp)));

        RoomStoreInterceptor.Decorate(services, (store, method, args) => method.Name switch
        {
            nameof(IRoomStore.SweepPresenceAsync) when _heldSweeps.TryGetValue(((PresenceSweep)args[0]!).RoomId, out var gate) =>
                SweepAfterAsync(store, gate, (PresenceSweep)args[0]!, (CancellationToken)args[1]!),
            nameof(IRoomStore.JoinAsync) when _heldJoins.TryGetValue(((JoinRequest)args[0]!).RoomId, out var gate) =>
                JoinThenWaitAsync(store, gate, (JoinRequest)args[0]!, (CancellationToken)args[1]!),
            nameof(IRoomStore.GetSnapshotAsync) => CountSnapshotRead((string)args[0]!),
            _ => null,
        });
    }

    private async Task<SweepOutcome> SweepAfterAsync(IRoomStore store, TaskCompletionSource gate, PresenceSweep sweep, CancellationToken cancellationToken)
    {
        _sweepsHeld.AddOrUpdate(sweep.RoomId, 1, (_, n) => n + 1);
        await gate.Task.WaitAsync(cancellationToken);
        return await store.SweepPresenceAsync(sweep, cancellationToken);
    }

    private async Task<JoinOutcome> JoinThenWaitAsync(IRoomStore store, TaskCompletionSource gate, JoinRequest request, CancellationToken cancellationToken)
    {
        var outcome = await store.JoinAsync(request, cancellationToken);
        _joinsHeld.AddOrUpdate(request.RoomId, 1, (_, n) => n + 1);
        await gate.Task.WaitAsync(cancellationToken);
        return outcome;
    }

    /// <summary>Counts the read and lets the real store answer it, unless the test asked for it to fail.</summary>
    private Task<RoomSnapshot>? CountSnapshotRead(string roomId)
    {
        SnapshotReads.AddOrUpdate(roomId, 1, (_, n) => n + 1);
        if (_snapshotReadsToFail.TryRemove(roomId, out _))
        {
            _snapshotReadsFailed.AddOrUpdate(roomId, 1, (_, n) => n + 1);
            return Task.FromException<RoomSnapshot>(RoomException.Unavailable("the room store is not answering"));
        }

        return null;
    }
}

/// <summary>A backplane that passes subscriptions to the server's own and says "restored" when a test asks.</summary>
public sealed class RaisableBackplane(IRoomBackplane inner) : IRoomBackplane
{
    public event Action<IReadOnlyCollection<string>?>? Restored;

    public Task<IAsyncDisposable> SubscribeAsync(string roomId, Action<BackplaneMessage> handler, CancellationToken cancellationToken) =>
        inner.SubscribeAsync(roomId, handler, cancellationToken);

    public void RaiseRestored(IReadOnlyCollection<string>? rooms) => Restored?.Invoke(rooms);
}
