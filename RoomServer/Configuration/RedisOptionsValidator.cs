using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>Checks <c>RoomServer:Redis</c>'s ranges at start-up (data annotations do not reach nested options).</summary>
public sealed class RedisOptionsValidator : IValidateOptions<RoomServerOptions>
{
    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        var failures = NestedOptionsValidator.Check("RoomServer:Redis", options.Redis).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
