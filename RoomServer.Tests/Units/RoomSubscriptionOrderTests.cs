using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A room's subscribe never overtakes its unsubscribe on a replica (<see cref="IRoomBackplane"/>: at most one
/// subscription per room). The last member leaving while Redis is slow, and a new one joining meanwhile, used
/// to subscribe the room again before the old unsubscribe ended — and that unsubscribe's failure path drops
/// every handler of the channel, the new one's too, leaving the room silent on the replica.
/// </summary>
public sealed class RoomSubscriptionOrderTests
{
    [Fact]
    public async Task AConnectionEnteringWhileTheRoomUnsubscribesWaitsForTheUnsubscribeThenSubscribesAfresh()
    {
        var backplane = new HeldUnsubscribeBackplane();
        var membership = new RoomMembership(
            backplane, Options.Create(new RoomServerOptions()), Metrics(), NullLogger<RoomMembership>.Instance);
        membership.Connected(Connection("c1"));
        membership.Connected(Connection("c2"));
        await membership.EnterAsync("r1", "c1", "ann", 0, CancellationToken.None);

        var leaving = membership.LeaveAsync("r1", "c1");
        await backplane.UnsubscribeStarted.WaitAsync(TimeSpan.FromSeconds(5));
        var entering = membership.EnterAsync("r1", "c2", "bob", 0, CancellationToken.None);

        // Time for an enter that does not wait to subscribe while the unsubscribe is still held.
        await Task.WhenAny(entering, Task.Delay(TimeSpan.FromMilliseconds(300)));
        backplane.ReleaseUnsubscribe();
        await leaving.WaitAsync(TimeSpan.FromSeconds(5));
        await entering.WaitAsync(TimeSpan.FromSeconds(5));

        backplane.Log.Should().Equal("subscribe 1", "unsubscribe 1 started", "unsubscribe 1 ended", "subscribe 2");
        membership.IsJoined("c2", "r1").Should().BeFalse("entered, not yet joined");
        membership.RoomOf("c2").Should().Be("r1");
    }

    [Fact]
    public async Task AJoinGivenUpBeforeItEnteredLeavesNoEntryBehind()
    {
        var membership = new RoomMembership(
            new HeldUnsubscribeBackplane(), Options.Create(new RoomServerOptions()), Metrics(), NullLogger<RoomMembership>.Instance);
        membership.Connected(Connection("c1"));
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();

        var entering = () => membership.EnterAsync("r1", "c1", "ann", 0, gone.Token);

        await entering.Should().ThrowAsync<OperationCanceledException>();
        await Poll.UntilAsync(() => Task.FromResult(!membership.HasEntry("r1")), TimeSpan.FromSeconds(5), "the room's empty entry is dropped");
        membership.RoomOf("c1").Should().BeNull("the connection never entered");
    }

    private static HubConnectionContext Connection(string id) =>
        new(new DefaultConnectionContext(id), new HubConnectionContextOptions(), NullLoggerFactory.Instance);

    private static RoomMetrics Metrics()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new RoomMetrics(services.GetRequiredService<IMeterFactory>());
    }

    /// <summary>Records subscribes and unsubscribes in order; the first unsubscribe waits until released.</summary>
    private sealed class HeldUnsubscribeBackplane : IRoomBackplane
    {
        private readonly TaskCompletionSource _unsubscribeStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<string> _log = new();
        private int _subscriptions;

        public event Action<IReadOnlyCollection<string>?>? Restored
        {
            add { }
            remove { }
        }

        public IReadOnlyList<string> Log => [.. _log];

        public Task UnsubscribeStarted => _unsubscribeStarted.Task;

        public void ReleaseUnsubscribe() => _release.TrySetResult();

        public Task<IAsyncDisposable> SubscribeAsync(string roomId, Action<BackplaneMessage> handler, CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref _subscriptions);
            _log.Enqueue($"subscribe {number}");
            return Task.FromResult<IAsyncDisposable>(new Subscription(this, number));
        }

        private sealed class Subscription(HeldUnsubscribeBackplane owner, int number) : IAsyncDisposable
        {
            public async ValueTask DisposeAsync()
            {
                owner._log.Enqueue($"unsubscribe {number} started");
                owner._unsubscribeStarted.TrySetResult();
                await owner._release.Task;
                owner._log.Enqueue($"unsubscribe {number} ended");
            }
        }
    }
}
