using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// Embedded mode whose store fails one of its calls, as it does when Redis is away, while
/// <see cref="Failing"/> is set; every other call, and that one otherwise, reaches the real store.
/// </summary>
public abstract class FailingStoreServer : ContractServer
{
    private int _failing;

    public bool Failing
    {
        get => Volatile.Read(ref _failing) == 1;
        set => Volatile.Write(ref _failing, value ? 1 : 0);
    }

    /// <summary>The <see cref="Rooms.IRoomStore"/> method that fails.</summary>
    protected abstract string FailingMethod { get; }

    /// <summary>What the failing call returns instead: a faulted task of the method's own type.</summary>
    protected abstract object Failure();

    protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    protected override Task StopBackingServicesAsync() => Task.CompletedTask;

    protected override void ConfigureServices(IServiceCollection services) => RoomStoreInterceptor.Decorate(services, (_, method, _) =>
        method.Name == FailingMethod && Failing ? Failure() : null);
}
