using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>Checks <c>RoomServer:Redis</c>'s ranges at start-up (data annotations do not reach nested options).</summary>
public sealed class RedisOptionsValidator : IValidateOptions<RoomServerOptions>
{
    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(options.Redis, new ValidationContext(options.Redis), results, validateAllProperties: true)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(results.Select(r => $"RoomServer:Redis: {r.ErrorMessage}"));
    }
}
