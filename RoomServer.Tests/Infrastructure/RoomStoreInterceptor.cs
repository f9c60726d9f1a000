using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// The server's <see cref="IRoomStore"/> with one or two of its many members intercepted by a test (a
/// hold, a failure); every other call goes straight to the real store. A proxy: the interface is large.
/// </summary>
// Not sealed: DispatchProxy derives the proxy type from it.
public class RoomStoreInterceptor : DispatchProxy
{
    private IRoomStore _store = null!;
    private Func<IRoomStore, MethodInfo, object?[], object?>? _intercept;

    /// <summary>
    /// Replaces the registered store with one whose calls go through <paramref name="intercept"/> first: it
    /// returns the call's result, or null to let the real store answer.
    /// </summary>
    public static void Decorate(IServiceCollection services, Func<IRoomStore, MethodInfo, object?[], object?> intercept)
    {
        var original = services.Last(d => d.ServiceType == typeof(IRoomStore));
        var storeType = original.ImplementationType
            ?? throw new InvalidOperationException("the server registers IRoomStore by type; an interceptor decorates that");
        services.Remove(original);
        services.AddSingleton(storeType);
        services.AddSingleton(sp =>
        {
            var proxy = Create<IRoomStore, RoomStoreInterceptor>();
            var interceptor = (RoomStoreInterceptor)(object)proxy;
            interceptor._store = (IRoomStore)sp.GetRequiredService(storeType);
            interceptor._intercept = intercept;
            return proxy;
        });
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (_intercept?.Invoke(_store, targetMethod, args ?? []) is { } intercepted)
        {
            return intercepted;
        }

        try
        {
            return targetMethod.Invoke(_store, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }
}
