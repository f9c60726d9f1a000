using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// A hub filter outside all of the server's own: once armed for a method, it holds that method's next result for
/// <see cref="Hold"/> after every inner filter (RoomHubFilter among them) has returned, so SignalR writes the answer
/// late — as on a busy box, where the write's continuation waits for the thread pool.
/// </summary>
public sealed class LateAnswers(TimeSpan hold) : IHubFilter
{
    private string? _method;
    private TaskCompletionSource _returned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TimeSpan Hold { get; } = hold;

    /// <summary>Completes when the armed call has come back out of the server's filters, its answer not yet written.</summary>
    public Task Returned => Volatile.Read(ref _returned).Task;

    public void Arm(string method)
    {
        Volatile.Write(ref _returned, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        Volatile.Write(ref _method, method);
    }

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var result = await next(invocationContext);
        var method = invocationContext.HubMethodName;
        if (Interlocked.CompareExchange(ref _method, null, method) == method)
        {
            Volatile.Read(ref _returned).TrySetResult();
            await Task.Delay(Hold);
        }

        return result;
    }

    /// <summary>Adds <paramref name="filter"/> before the server's own filters, so it runs outside them.</summary>
    public static void AddOutermost(IServiceCollection services, IHubFilter filter) =>
        // Options are configured in registration order: inserted first, this runs before AddSignalR's own AddFilter calls.
        services.Insert(0, ServiceDescriptor.Singleton<IConfigureOptions<HubOptions>>(
            new ConfigureNamedOptions<HubOptions>(Options.DefaultName, o => o.AddFilter(filter))));
}
