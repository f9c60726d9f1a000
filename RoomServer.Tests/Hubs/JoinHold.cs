using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// Holds one member's next <see cref="IRoomStore.JoinAsync"/> before it reaches the store, until the test
/// releases it: the hub has put the connection into the room's fan-out by then, and the store has not yet
/// said whether it admits the member. For <see cref="Infrastructure.RoomStoreInterceptor"/>.
/// </summary>
public sealed class JoinHold
{
    private readonly Lock _lock = new();
    private string? _memberId;
    private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the held Join has reached the store.</summary>
    public Task Reached
    {
        get
        {
            lock (_lock)
            {
                return _reached.Task;
            }
        }
    }

    /// <summary>Holds the next Join of <paramref name="memberId"/>.</summary>
    public void Arm(string memberId)
    {
        lock (_lock)
        {
            _memberId = memberId;
            _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Lets the held Join go on to the store.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _memberId = null;
            _released.TrySetResult();
        }
    }

    /// <summary>The interceptor: a held Join's task, or null to let the real store answer.</summary>
    public object? Intercept(IRoomStore store, MethodInfo method, object?[] args)
    {
        TaskCompletionSource reached, released;
        lock (_lock)
        {
            if (method.Name != nameof(IRoomStore.JoinAsync) || args[0] is not JoinRequest request || request.MemberId != _memberId)
            {
                return null;
            }

            _memberId = null;
            (reached, released) = (_reached, _released);
        }

        return HeldAsync(store, (JoinRequest)args[0]!, reached, released, (CancellationToken)args[1]!);
    }

    private static async Task<JoinOutcome> HeldAsync(IRoomStore store, JoinRequest request, TaskCompletionSource reached, TaskCompletionSource released, CancellationToken cancellationToken)
    {
        reached.TrySetResult();
        await released.Task;
        return await store.JoinAsync(request, cancellationToken);
    }
}

/// <summary>Embedded mode, its store's Join held on demand (<see cref="JoinHold"/>), with the settings a test class adds.</summary>
public abstract class JoinHoldEmbeddedServer : ContractServer
{
    public JoinHold Hold { get; } = new();

    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() => Task.FromResult(Settings);

    protected override Task StopBackingServicesAsync() => Task.CompletedTask;

    protected override void ConfigureServices(IServiceCollection services) => RoomStoreInterceptor.Decorate(services, Hold.Intercept);
}

/// <summary>Redis mode, its store's Join held on demand (<see cref="JoinHold"/>), with the settings a test class adds.</summary>
public abstract class JoinHoldRedisServer : RedisContractServer
{
    public JoinHold Hold { get; } = new();

    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
    {
        var settings = new Dictionary<string, string>(await base.StartBackingServicesAsync());
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        return settings;
    }

    protected override void ConfigureServices(IServiceCollection services) => RoomStoreInterceptor.Decorate(services, Hold.Intercept);
}
