using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Hubs;

/// <summary>Refuses to start with an allow-list entry that is not <c>*</c> or an http(s) origin.</summary>
public sealed class AllowedOriginsValidator : IValidateOptions<RoomServerOptions>
{
    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        var bad = options.AllowedOrigins.Where(o => o.Trim() != HubOrigins.AnyOrigin && HubOrigins.Normalize(o.Trim()) is null).ToList();
        return bad.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"RoomServer:AllowedOrigins entries must be '*' or an origin like https://example.com[:port] (no path): {string.Join(", ", bad)}");
    }
}
