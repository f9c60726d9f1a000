namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// Which store a replica runs (DESIGN.md §6): Redis when <c>ConnectionStrings:Redis</c> is set, embedded
/// otherwise. One place decides, so the mode chosen and the checks of its settings never disagree.
/// </summary>
public static class StorageMode
{
    public const string ConnectionSetting = "ConnectionStrings__Redis";

    /// <summary>The Redis connection string, or null when the replica runs embedded (absent or blank).</summary>
    public static string? RedisConnectionString(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString("Redis");
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    public static bool IsEmbedded(IConfiguration configuration) => RedisConnectionString(configuration) is null;
}
