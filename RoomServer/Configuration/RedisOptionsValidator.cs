using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// Checks <c>RoomServer:Redis</c>'s ranges at start-up in every mode (data annotations do not reach nested
/// options; an embedded replica refuses the settings anyway, <see cref="RedisSettingsWithoutRedisValidator"/>,
/// but a malformed one is named as such), and
/// that an explicit <c>ReplicasToAcknowledge</c> leaves its writes time to be confirmed (the default's
/// check waits for the server: RedisTopology).
/// </summary>
public sealed class RedisOptionsValidator : IValidateOptions<RoomServerOptions>
{
    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        var failures = NestedOptionsValidator.Check("RoomServer:Redis", options.Redis).ToList();
        if (options.Redis.ReplicasToAcknowledge is { } replicas && RedisOptions.DeadlineTooShort(replicas, options.StoreTimeoutMilliseconds) is { } tooShort)
        {
            failures.Add(tooShort);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
