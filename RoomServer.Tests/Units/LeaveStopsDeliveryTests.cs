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

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// DESIGN.md §3: after <c>Leave</c>, the connection receives no more events for that room. A room message being
/// delivered while the Leave ran used to pass the "still in the room" check, then be written once the Leave had
/// returned — so after the Leave's result, if the delivering thread was held up in between. The check and the
/// write now happen under the connection's lock, which the Leave takes too.
/// </summary>
public sealed class LeaveStopsDeliveryTests
{
    private static readonly PresenceMessage BobOnline = new(new PresenceChange("r1", "bob", "Bob", Online: true, Seq: 1));

    [Fact]
    public async Task ALeaveReturnsOnlyAfterAMessageItRacedIsInTheConnectionsQueueAndNothingIsWrittenAfterIt()
    {
        var backplane = new CapturingBackplane();
        var membership = new RoomMembership(backplane, Options.Create(new RoomServerOptions()), Metrics(), NullLogger<RoomMembership>.Instance);
        var connection = new HeldWriteConnection("c1");
        membership.Connected(connection);
        await membership.EnterAsync("r1", "c1", "ann", 0, CancellationToken.None);
        membership.Admit("r1", "c1");

        connection.HoldNextWrite();
        var delivering = Task.Run(() => backplane.Deliver(BobOnline));
        await connection.WriteStarted.WaitAsync(TimeSpan.FromSeconds(5));
        var leaving = Task.Run(() => membership.LeaveAsync("r1", "c1"));

        // Time for a Leave that does not wait for the write in progress to return before it.
        var leftDuringTheWrite = await Task.WhenAny(leaving, Task.Delay(TimeSpan.FromMilliseconds(300))) == leaving;
        connection.ReleaseWrite();
        await delivering.WaitAsync(TimeSpan.FromSeconds(5));
        await leaving.WaitAsync(TimeSpan.FromSeconds(5));

        leftDuringTheWrite.Should().BeFalse("the message was being written when the Leave began, so it goes out before the Leave's result");
        backplane.Deliver(BobOnline);
        connection.Writes.Should().Be(1, "nothing of the room is written once the Leave has returned");
    }

    private static RoomMetrics Metrics()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new RoomMetrics(services.GetRequiredService<IMeterFactory>());
    }

    /// <summary>A connection whose next write, once asked to, waits until released: a delivering thread held up mid-write.</summary>
    private sealed class HeldWriteConnection(string connectionId)
        : HubConnectionContext(new DefaultConnectionContext(connectionId), new HubConnectionContextOptions(), NullLoggerFactory.Instance)
    {
        private readonly TaskCompletionSource _writeStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _held;
        private int _writes;

        public Task WriteStarted => _writeStarted.Task;

        public int Writes => Volatile.Read(ref _writes);

        public void HoldNextWrite() => Volatile.Write(ref _held, 1);

        public void ReleaseWrite() => Volatile.Write(ref _held, 0);

        public override ValueTask WriteAsync(SerializedHubMessage message, CancellationToken cancellationToken = default)
        {
            _writeStarted.TrySetResult();
            // Blocks the delivering thread, as a preemption would (bounded, so a broken test cannot hang).
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Volatile.Read(ref _held) == 1 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(1);
            }

            Interlocked.Increment(ref _writes);
            return default;
        }
    }

    /// <summary>Keeps the one room's handler, so the test delivers its messages as the channel would.</summary>
    private sealed class CapturingBackplane : IRoomBackplane
    {
        private Action<BackplaneMessage>? _handler;

        public event Action<IReadOnlyCollection<string>?>? Restored
        {
            add { }
            remove { }
        }

        public void Deliver(BackplaneMessage message) => _handler!(message);

        public Task<IAsyncDisposable> SubscribeAsync(string roomId, Action<BackplaneMessage> handler, CancellationToken cancellationToken)
        {
            _handler = handler;
            return Task.FromResult<IAsyncDisposable>(new NoSubscription());
        }

        private sealed class NoSubscription : IAsyncDisposable
        {
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
