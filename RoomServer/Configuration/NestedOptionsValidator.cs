using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// Checks the data annotations of <c>RoomServer:Limits</c> and <c>RoomServer:Jwt</c> at start-up:
/// <c>ValidateDataAnnotations</c> does not reach into nested options, so without this a zero rate
/// would start a server that answers every request with a 500 (<c>RoomServer:Redis</c> is checked the
/// same way, in every mode, by <see cref="RedisOptionsValidator"/>).
/// </summary>
public sealed class NestedOptionsValidator : IValidateOptions<RoomServerOptions>
{
    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        var failures = Check("RoomServer:Limits", options.Limits).Concat(Check("RoomServer:Jwt", options.Jwt)).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>One nested section's data-annotation failures, each prefixed with the section's name.</summary>
    internal static IEnumerable<string> Check(string section, object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => $"{section}: {r.ErrorMessage}");
    }
}
