using System.Reflection;
using System.Runtime.ExceptionServices;

namespace RoomShare.RoomServer.Redis;

/// <summary>A call a <see cref="DispatchProxy"/> passes on to the object it stands for, its exception rethrown as thrown.</summary>
internal static class ProxiedCall
{
    public static object? Invoke(object target, MethodInfo? method, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(method);
        try
        {
            return method.Invoke(target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is { } thrown)
        {
            ExceptionDispatchInfo.Throw(thrown);
            throw;
        }
    }
}
