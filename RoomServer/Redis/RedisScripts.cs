using System.Reflection;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// The Lua scripts (embedded resources under Scripts/), each prefixed with prelude.lua. Every change
/// to a room is exactly one of these, so it is atomic and its PUBLISH happens in version order.
/// </summary>
public static class RedisScripts
{
    public static readonly RedisScript Create = Load("create");
    public static readonly RedisScript Join = Load("join");
    public static readonly RedisScript Choice = Load("choice");
    public static readonly RedisScript ChoiceReplay = Load("choice_replay");
    public static readonly RedisScript State = Load("state");
    public static readonly RedisScript Refresh = Load("refresh");
    public static readonly RedisScript Notice = Load("notice");
    public static readonly RedisScript Delete = Load("delete");
    public static readonly RedisScript Remove = Load("remove");
    public static readonly RedisScript Leave = Load("leave");
    public static readonly RedisScript Sweep = Load("sweep");
    public static readonly RedisScript Snapshot = Load("snapshot");
    public static readonly RedisScript Audit = Load("audit");
    public static readonly RedisScript Failover = Load("failover");

    private static RedisScript Load(string name) => new(name, Read("prelude") + "\n" + Read(name));

    /// <summary>A script that touches no room (so no prelude), e.g. key_rooms.lua.</summary>
    public static RedisScript Standalone(string name) => new(name, Read(name));

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
