using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// Refuses <c>RoomServer:Redis:*</c> settings on a replica with no Redis connection string: it would run
/// embedded — rooms in its own memory, shared with no other replica — while its operator, having tuned
/// Redis, believes it shares state. Nothing in the repository (compose, eng/cluster.sh, the load tool, the
/// test fixtures) sets them without the connection string, so a refusal costs no legitimate set-up.
/// </summary>
public sealed class RedisSettingsWithoutRedisValidator(IConfiguration configuration) : IValidateOptions<RoomServerOptions>
{
    public const string Section = RoomServerOptions.SectionName + ":Redis";

    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        if (!StorageMode.IsEmbedded(configuration))
        {
            return ValidateOptionsResult.Success;
        }

        var set = SetKeys(configuration);
        if (set.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var named = string.Join(", ", set.Select(k => k.Replace(":", "__", StringComparison.Ordinal)));
        return ValidateOptionsResult.Fail(
            $"{named} {(set.Count == 1 ? "is" : "are")} set, but {StorageMode.ConnectionSetting} is not: without it this replica runs embedded " +
            "(rooms in its own memory, shared with no other replica) and would ignore the Redis settings. " +
            $"Set {StorageMode.ConnectionSetting} to the Redis server (e.g. localhost:6379), or remove the RoomServer__Redis__* settings.");
    }

    /// <summary>The keys under <see cref="Section"/> given a value (an empty one sets nothing), in key order.</summary>
    private static List<string> SetKeys(IConfiguration configuration) =>
        configuration.GetSection(Section).AsEnumerable()
            .Where(kv => !string.IsNullOrWhiteSpace(kv.Value))
            .Select(kv => kv.Key)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
}
