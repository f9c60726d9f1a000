using System.Reflection;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// The Lua scripts (embedded resources under Scripts/), each prefixed with prelude.lua. Every change
/// to a room is exactly one of these, so it is atomic and its PUBLISH happens in version order.
/// </summary>
public static class RedisScripts
{
    public static readonly string Create = Load("create");
    public static readonly string Join = Load("join");
    public static readonly string Choice = Load("choice");
    public static readonly string State = Load("state");
    public static readonly string Refresh = Load("refresh");
    public static readonly string Notice = Load("notice");
    public static readonly string Delete = Load("delete");
    public static readonly string Leave = Load("leave");
    public static readonly string Sweep = Load("sweep");
    public static readonly string Snapshot = Load("snapshot");

    private static string Load(string name) => Read("prelude") + "\n" + Read(name);

    private static string Read(string name)
    {
        var assembly = typeof(RedisScripts).Assembly;
        var resource = $"{typeof(RedisScripts).Namespace}.Scripts.{name}.lua";
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"missing embedded script {resource}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
