using System.IO.Pipelines;
using System.Reflection;
using System.Security.Claims;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// When Fanout/RemovalCatchUp sweeps the members a replica holds (DESIGN.md §3 <c>Removed</c>, §9): a fake
/// broadcast raises <see cref="IMemberRemovalBroadcast.Resubscribed"/>, a fake store counts the lookups (one
/// member held, so one lookup per sweep) and a manual clock stands for time. Built through DI, as the server does.
/// </summary>
public sealed class RemovalCatchUpTests : IAsyncLifetime
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    private readonly FakeRemovals _removals = new();
    private readonly ManualTimeProvider _time = new();
    private readonly ReplicaShutdown _shutdown = new();
    private CountingStore _store = null!;
    private RemovalCatchUp _catchUp = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _shutdown.Stop();
        await _catchUp.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ResubscriptionsInQuickSuccessionAreCoalescedIntoBoundedSweeps()
    {
        await StartAsync();

        // As after every retry pass of a backplane whose cluster has a shard down: a second apart, here far less.
        for (var i = 0; i < 10; i++)
        {
            _removals.Raise();
            await Task.Delay(50);
        }

        await Task.Delay(Settle);
        _store.Lookups.Should().Be(1, "ten re-subscriptions while the clock stands still sweep the members held here once");

        // Those asked for meanwhile are owed one sweep once the spacing has passed — one, not nine.
        _time.Advance(TimeSpan.FromMinutes(1));
        await WaitForLookupsAsync(2);
        _time.Advance(TimeSpan.FromMinutes(1));
        await Task.Delay(Settle);
        _store.Lookups.Should().Be(2);

        // A later loss of the subscription is caught up at once.
        _removals.Raise();
        await WaitForLookupsAsync(3);
    }

    [Fact]
    public async Task AfterASweepThrowsUnexpectedlyALaterResubscriptionStillSweeps()
    {
        await StartAsync(failFirst: true);

        _removals.Raise();
        await WaitForLookupsAsync(1);

        // Past any spacing between sweeps: only the crashed sweep could stop this one.
        _time.Advance(TimeSpan.FromMinutes(5));
        _removals.Raise();
        await WaitForLookupsAsync(2);
    }

    [Fact]
    public async Task LookupsUnansweredPastEveryRoundAreRetriedUntilTheStoreAnswers()
    {
        // As a cluster shard failing over for longer than a sweep's rounds, with no event when it is back:
        // its lookups fail 8 times, then say the member was removed since the token was issued.
        var connection = await StartAsync(failFor: 8, generation: 1);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionAborted.Register(() => closed.TrySetResult());

        _removals.Raise();
        for (var i = 0; i < 100 && !closed.Task.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(30);
        }

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        _store.Lookups.Should().Be(9, "the 5 rounds, then retries of the unanswered pair until the store answers, then none");
    }

    private async Task<HubConnectionContext> StartAsync(bool failFirst = false, int failFor = 0, long generation = 0)
    {
        var services = new ServiceCollection().AddMetrics();
        services.AddSingleton(Options.Create(new RoomServerOptions()));
        services.AddSingleton<IRoomBackplane, InProcessBackplane>();
        services.AddSingleton<RoomMetrics>();
        services.AddSingleton<RoomMembership>();
        services.AddSingleton<IMemberRemovalBroadcast>(_removals);
        services.AddSingleton(_shutdown);
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        _store = CountingStore.Create(failFirst, failFor, generation);
        services.AddSingleton<IRoomStore>(_store.Proxy);
        var provider = services.BuildServiceProvider();

        // One member held here, whose token is as new as the store's generation: a sweep closes nothing.
        var connection = Connection("c1", "room-1", "bob");
        provider.GetRequiredService<RoomMembership>().Connected(connection);
        _catchUp = ActivatorUtilities.CreateInstance<RemovalCatchUp>(provider);
        await _catchUp.StartAsync(CancellationToken.None);
        return connection;
    }

    private async Task WaitForLookupsAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (_store.Lookups < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        _store.Lookups.Should().Be(count);
    }

    private static HubConnectionContext Connection(string connectionId, string roomId, string memberId)
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(RoomClaims.RoomId, roomId), new Claim(RoomClaims.MemberId, memberId), new Claim(RoomClaims.RemovalGeneration, "0")],
            "test"));
        var context = new DefaultConnectionContext(connectionId, new Pipes(new Pipe().Reader, new Pipe().Writer), new Pipes(new Pipe().Reader, new Pipe().Writer)) { User = user };
        return new HubConnectionContext(context, new HubConnectionContextOptions(), NullLoggerFactory.Instance);
    }

    private sealed record Pipes(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    private sealed class FakeRemovals : IMemberRemovalBroadcast
    {
        public event Action<MemberRemovedNotice>? Heard
        {
            add { }
            remove { }
        }

        public event Action? Resubscribed;

        public Task PublishAsync(MemberRemovedNotice removal) => Task.CompletedTask;

        public void Raise() => Resubscribed?.Invoke();
    }

    /// <summary>
    /// A store that answers only removal-generation lookups (<c>generation</c>, 0 unless told), counting them; the
    /// first may throw unexpectedly, or the first <c>failFor</c> time out as an unreachable shard's do.
    /// </summary>
    // Not sealed: DispatchProxy derives the proxy type from it.
    public class CountingStore : DispatchProxy
    {
        private int _lookups;
        private bool _failFirst;
        private int _failFor;
        private long _generation;

        public IRoomStore Proxy { get; private set; } = null!;

        public int Lookups => Volatile.Read(ref _lookups);

        public static CountingStore Create(bool failFirst, int failFor, long generation)
        {
            var proxy = Create<IRoomStore, CountingStore>();
            var store = (CountingStore)(object)proxy;
            store._failFirst = failFirst;
            store._failFor = failFor;
            store._generation = generation;
            store.Proxy = proxy;
            return store;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name != nameof(IRoomStore.RemovalGenerationAsync))
            {
                throw new NotSupportedException(targetMethod?.Name);
            }

            var lookup = Interlocked.Increment(ref _lookups);
            if (lookup == 1 && _failFirst)
            {
                // Not one the catch-up expects (RoomException, a timeout, a cancellation).
                throw new InvalidOperationException("unexpected");
            }

            return lookup <= _failFor
                ? Task.FromException<long>(new TimeoutException("shard unreachable"))
                : Task.FromResult(_generation);
        }
    }
}
