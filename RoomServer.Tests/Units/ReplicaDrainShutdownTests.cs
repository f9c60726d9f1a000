using System.Buffers;
using System.IO.Pipelines;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A drain runs inside the host's ApplicationStopping, whose token is cancelled for all of it, while members are still
/// connected (DESIGN.md §9). The replica's own background work — closing a removed member's connections, the catch-up
/// on missed removals, the removal channel, presence sweeps — stopped on that token, so during a drain a member the
/// owner removed kept reading the room, was never told <c>Removed</c>, and was closed by the drain allowing a reconnect.
/// That work now stops on <see cref="ReplicaShutdown"/>, once the drain is over. A call kept in flight holds the drain
/// before its closes, so what happens meanwhile is what happens during a drain.
/// </summary>
public sealed class ReplicaDrainShutdownTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private readonly ApplicationLifetime _lifetime = new(NullLogger<ApplicationLifetime>.Instance);
    private ReplicaShutdown _shutdown = null!;
    private readonly FakeRemovals _removals = new();
    private ServiceProvider _services = null!;
    private ReplicaDrain _drain = null!;
    private RemovedMemberEviction _eviction = null!;
    private RoomMembership _membership = null!;

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection().AddMetrics();

        // Drain budget 8 s; a call in flight holds the closes up to 3.6 s (the store deadline + 100 ms).
        services.AddSingleton(Options.Create(new RoomServerOptions { DrainSeconds = 10, StoreTimeoutMilliseconds = 3500 }));
        services.AddSingleton<IRoomBackplane, InProcessBackplane>();
        services.AddSingleton<RoomMetrics>();
        services.AddSingleton<RoomMembership>();
        services.AddSingleton<IMemberRemovalBroadcast>(_removals);
        services.AddSingleton<IHostApplicationLifetime>(_lifetime);
        services.AddSingleton<ReplicaShutdown>();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));

        // Every member asked about was removed at generation 1; the connections' tokens say 0.
        services.AddSingleton(RemovalCatchUpTests.CountingStore.Create(failFirst: false, failFor: 0, generation: 1).Proxy);
        _services = services.BuildServiceProvider();
        _membership = _services.GetRequiredService<RoomMembership>();
        _shutdown = _services.GetRequiredService<ReplicaShutdown>();
        _drain = ActivatorUtilities.CreateInstance<ReplicaDrain>(_services);
        _eviction = ActivatorUtilities.CreateInstance<RemovedMemberEviction>(_services);
        await _drain.StartAsync(CancellationToken.None);
        await _eviction.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _eviction.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task TheReplicasBackgroundWorkGoesOnWhileItDrainsAndStopsOnceTheDrainIsOver()
    {
        _drain.TryBeginCall().Should().BeTrue();
        var stopping = Task.Run(_lifetime.StopApplication);
        await WaitUntilAsync(() => _drain.IsDraining);

        _lifetime.ApplicationStopping.IsCancellationRequested.Should().BeTrue("the drain runs inside the host's stopping signal");
        _shutdown.Token.IsCancellationRequested.Should().BeFalse("members are still connected: what serves them goes on");

        _drain.EndCall();
        await stopping.WaitAsync(Bound);
        _shutdown.Token.IsCancellationRequested.Should().BeTrue("once the drain is over, background work stops");
    }

    [Fact]
    public async Task AMemberRemovedWhileTheReplicaDrainsIsToldRemovedAndClosedBeforeTheDrainsOwnClose()
    {
        var (bob, written) = Connection("c1", "room-1", "bob");
        _membership.Connected(bob);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.ConnectionAborted.Register(() => closed.TrySetResult());
        _drain.TryBeginCall().Should().BeTrue();
        var stopping = Task.Run(_lifetime.StopApplication);
        await WaitUntilAsync(() => _drain.IsDraining);

        _removals.Hear(new MemberRemovedNotice("room-1", "bob", "owner"));

        // The call still holds the drain's closes: only the removal can close bob now.
        await closed.Task.WaitAsync(Bound);
        var frames = await ReadWrittenAsync(written);
        frames.Should().Contain("\"target\":\"Removed\"").And.Contain("\"by\":\"owner\"", "the removed member is told before the close (DESIGN.md §3)");
        _drain.EndCall();
        await stopping.WaitAsync(Bound);
    }

    [Fact]
    public async Task AConnectionRegisteredAfterTheDrainTookItsListIsClosedByTheDrainToo()
    {
        var (early, _) = Connection("c1", "room-1", "ann");
        _membership.Connected(early);
        var earlyClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        early.ConnectionAborted.Register(() => earlyClosed.TrySetResult());
        _drain.TryBeginCall().Should().BeTrue();
        var stopping = Task.Run(_lifetime.StopApplication);
        await WaitUntilAsync(() => _drain.IsDraining);

        // Its upgrade passed the gate just before the drain began; its handshake completes now.
        var (late, _) = Connection("c2", "room-1", "cid");
        _membership.Connected(late);
        var lateClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        late.ConnectionAborted.Register(() => lateClosed.TrySetResult());
        _drain.EndCall();

        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        // Closed by the drain (SignalR runs an abort's callbacks on the pool, a moment later), not left to SignalR's stop.
        await lateClosed.Task.WaitAsync(Bound);
        await earlyClosed.Task.WaitAsync(Bound);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition holds within the bound");
            await Task.Delay(10);
        }
    }

    /// <summary>A JSON-protocol connection of a member whose token says removal generation 0; what it is sent lands in the reader returned.</summary>
    private static (HubConnectionContext Connection, PipeReader Written) Connection(string connectionId, string roomId, string memberId)
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(RoomClaims.RoomId, roomId), new Claim(RoomClaims.MemberId, memberId), new Claim(RoomClaims.RemovalGeneration, "0")],
            "test"));
        var output = new Pipe();
        var context = new DefaultConnectionContext(connectionId, new Pipes(new Pipe().Reader, output.Writer), new Pipes(new Pipe().Reader, new Pipe().Writer)) { User = user };
        var connection = new HubConnectionContext(context, new HubConnectionContextOptions(), NullLoggerFactory.Instance) { Protocol = new JsonHubProtocol() };
        return (connection, output.Reader);
    }

    private static async Task<string> ReadWrittenAsync(PipeReader written)
    {
        using var cancel = new CancellationTokenSource(Bound);
        var result = await written.ReadAsync(cancel.Token);
        var text = Encoding.UTF8.GetString(result.Buffer.ToArray());
        written.AdvanceTo(result.Buffer.End);
        return text;
    }

    private sealed record Pipes(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    private sealed class FakeRemovals : IMemberRemovalBroadcast
    {
        public event Action<MemberRemovedNotice>? Heard;

        public event Action? Resubscribed
        {
            add { }
            remove { }
        }

        public Task PublishAsync(MemberRemovedNotice removal) => Task.CompletedTask;

        public void Hear(MemberRemovedNotice removal) => Heard?.Invoke(removal);
    }
}
