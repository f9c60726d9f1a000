using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Where writes are confirmed (DESIGN.md §2, <c>ReplicasToAcknowledge</c> 1): two replicas of RoomShare — <see cref="First"/>
/// and <see cref="Second"/>, each with its own Redis connection, so a retry can reach a connection that wrote nothing
/// since — against a master with one replica, which a test may freeze (<see cref="PosixSignal"/>: linked, acknowledging
/// nothing). The stores' heartbeats are never started: they count as hearing for 3 minutes.
/// </summary>
internal sealed class ConfirmedWritesStage : IAsyncDisposable
{
    private readonly StandaloneRedisConnection _first;
    private readonly StandaloneRedisConnection _second;

    private ConfirmedWritesStage(RedisServerProcess master, RedisServerProcess replica, StandaloneRedisConnection first, StandaloneRedisConnection second, IOptions<RoomServerOptions> options)
    {
        Master = master;
        Replica = replica;
        _first = first;
        _second = second;
        First = first.RoomStore(options);
        Second = second.RoomStore(options);
    }

    public RedisServerProcess Master { get; }

    public RedisServerProcess Replica { get; }

    public RedisRoomStore First { get; }

    public RedisRoomStore Second { get; }

    /// <summary>The first replica's Redis connection, for the stores beside the room store.</summary>
    public RedisConnection FirstConnection => _first.Connection;

    /// <summary>
    /// What <paramref name="call"/> answers once the replica (thawed by the test) confirms again: the code of the
    /// <see cref="RoomException"/> it throws, or null when it succeeds. Polled while it answers <c>unavailable</c>.
    /// </summary>
    public static Task<string?> AnswerOnceConfirmedAsync(Func<Task> call) =>
        Poll.ForAsync<string?>(
            async () =>
            {
                try
                {
                    await call();
                    return null;
                }
                catch (RoomException ex)
                {
                    return ex.Code;
                }
            },
            code => code != RoomErrorCodes.Unavailable,
            TimeSpan.FromSeconds(20),
            _ => "the replica confirms again");

    public static async Task<ConfirmedWritesStage> StartAsync()
    {
        // Whatever started is stopped again if a later step fails: a test's processes end with it.
        var started = new Stack<IAsyncDisposable>();
        try
        {
            var master = await RedisServerProcess.StartAsync();
            started.Push(master);
            var replica = await RedisServerProcess.StartAsync();
            started.Push(replica);
            await replica.ReplicateAsync(master);
            var options = Options.Create(new RoomServerOptions
            {
                Redis = new RedisOptions { ReplicasToAcknowledge = 1 },
                HeartbeatMilliseconds = 60_000,
            });
            var first = await StandaloneRedisConnection.StartAsync(master.Endpoint, "r1", options.Value);
            started.Push(first);
            var second = await StandaloneRedisConnection.StartAsync(master.Endpoint, "r2", options.Value);
            return new ConfirmedWritesStage(master, replica, first, second, options);
        }
        catch
        {
            while (started.TryPop(out var disposable))
            {
                await disposable.DisposeAsync();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
        await Replica.DisposeAsync();
        await Master.DisposeAsync();
    }
}
