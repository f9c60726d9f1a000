using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// <c>RoomServer:Redis:ShardedPubSub</c> is one of its three names, nothing else. The configuration binder
/// parses enums with <see cref="Enum.Parse(Type, string, bool)"/>, which also takes numbers and comma lists:
/// <c>0</c> would bind as <c>auto</c> (an operator who meant "off" gets sharded pub/sub on a cluster),
/// <c>7</c> or <c>on,off</c> as values the topology then reads as <c>auto</c>. So the text as written is checked,
/// in every mode, as every malformed Redis setting is (DESIGN.md §6).
/// </summary>
public sealed class ShardedPubSubSettingValidator(IConfiguration configuration) : IValidateOptions<RoomServerOptions>
{
    private const string Key = RedisSettingsWithoutRedisValidator.Section + ":ShardedPubSub";

    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        var text = configuration[Key];
        if (string.IsNullOrWhiteSpace(text) || Enum.GetNames<ShardedPubSubMode>().Contains(text.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail($"RoomServer:Redis:ShardedPubSub is '{text}': it must be auto, on or off (set RoomServer__Redis__ShardedPubSub).");
    }
}
