using System.Security.Cryptography;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// In Development, a missing API key or signing key is generated for this run so that
/// <c>dotnet run --project RoomServer</c> works with no setup; the start-up banner prints the key.
/// Production never gets here: it refuses to start instead (<see cref="RoomServerOptionsValidator"/>).
/// </summary>
internal static class DevelopmentSecrets
{
    /// <summary>The API key generated for this run (outside the RoomServer section): the banner shows the key only if it is this one.</summary>
    public const string GeneratedApiKeyMarker = "RoomShare:GeneratedApiKey";

    /// <summary>Set when the signing key was generated for this run: with Redis, no other replica can check its tokens (StartupLog warns).</summary>
    public const string GeneratedSigningKeyMarker = "RoomShare:GeneratedSigningKey";

    public static void AddGeneratedSecretsIfMissing(WebApplicationBuilder builder)
    {
        if (!builder.Environment.IsDevelopment())
        {
            return;
        }

        var section = builder.Configuration.GetSection(RoomServerOptions.SectionName);
        var generated = new Dictionary<string, string?>();
        if (string.IsNullOrEmpty(section["ApiKeys:0"]))
        {
            var apiKey = "dev-" + RandomNumberGenerator.GetHexString(24, lowercase: true);
            generated["RoomServer:ApiKeys:0"] = apiKey;
            generated[GeneratedApiKeyMarker] = apiKey;
        }

        if (string.IsNullOrEmpty(section["Jwt:SigningKey"]))
        {
            generated["RoomServer:Jwt:SigningKey"] = RandomNumberGenerator.GetHexString(64, lowercase: true);
            generated[GeneratedSigningKeyMarker] = "true";
        }

        if (generated.Count > 0)
        {
            builder.Configuration.AddInMemoryCollection(generated);
        }
    }
}
