namespace RoomShare.RoomServer.Redis;

/// <summary>
/// The order outbox's own scripts (Scripts/outbox_*.lua). Unlike <see cref="RedisScripts"/> they run
/// without prelude.lua: they touch the outbox keys only, not the room's.
/// </summary>
public static class OutboxScripts
{
    public static readonly RedisScript Claim = Load("outbox_claim");
    public static readonly RedisScript Settle = Load("outbox_settle");
    public static readonly RedisScript Keep = Load("outbox_keep");
    public static readonly RedisScript Status = Load("outbox_status");
    public static readonly RedisScript Statuses = Load("outbox_statuses");
    public static readonly RedisScript Requeue = Load("outbox_requeue");
    public static readonly RedisScript Restore = Load("outbox_restore");
    public static readonly RedisScript Discard = Load("outbox_discard");
    public static readonly RedisScript Forget = Load("outbox_forget");
    public static readonly RedisScript Dead = Load("outbox_dead");
    public static readonly RedisScript Records = Load("outbox_records");

    private static RedisScript Load(string name)
    {
        var assembly = typeof(OutboxScripts).Assembly;
        var resource = $"{typeof(OutboxScripts).Namespace}.Scripts.{name}.lua";
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"missing embedded script {resource}");
        using var reader = new StreamReader(stream);
        return new RedisScript(name, reader.ReadToEnd());
    }
}
