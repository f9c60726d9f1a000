using Microsoft.AspNetCore.HttpLogging;

namespace RoomShare.RoomServer.Logging;

/// <summary>
/// Request logs without secrets. ASP.NET Core's own "Request starting/finished" lines
/// (Microsoft.AspNetCore.Hosting.Diagnostics, Information/Debug) print the full URL — with a browser's
/// <c>access_token</c> — so that category is held at Warning whatever the configuration says: a rule
/// without a provider, and one for every provider the configuration names (a provider's own rule, even
/// its <c>Default</c>, would otherwise win over a rule naming none). Request logs come from HTTP logging instead:
/// method, path, status and duration, the query with <c>access_token</c> redacted, never headers or
/// bodies (no <c>Authorization</c>, no <c>X-Api-Key</c>). Off by default like all of
/// Microsoft.AspNetCore; on with <c>Logging__LogLevel__Microsoft.AspNetCore.HttpLogging=Information</c>.
/// </summary>
public static class RequestLogging
{
    /// <summary>The framework's request-line logger, which cannot redact.</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static WebApplicationBuilder AddRoomRequestLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.AddFilter(HostingDiagnosticsCategory, LogLevel.Warning);
        builder.Services.PostConfigure<LoggerFilterOptions>(filters =>
        {
            foreach (var provider in filters.Rules.Select(r => r.ProviderName).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).ToList())
            {
                filters.Rules.Add(new LoggerFilterRule(provider, HostingDiagnosticsCategory, LogLevel.Warning, null));
            }
        });
        builder.Services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath | HttpLoggingFields.RequestProtocol
                | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            o.CombineLogs = true;
        });
        builder.Services.AddSingleton<IHttpLoggingInterceptor, RedactedQueryInterceptor>();
        return builder;
    }

    public static WebApplication UseRoomRequestLogging(this WebApplication app)
    {
        app.UseHttpLogging();
        return app;
    }

    /// <summary>Adds the request's query, redacted, to its log line.</summary>
    private sealed class RedactedQueryInterceptor : IHttpLoggingInterceptor
    {
        public ValueTask OnRequestAsync(HttpLoggingInterceptorContext logContext)
        {
            if (logContext.HttpContext.Request.QueryString is { HasValue: true } query)
            {
                logContext.AddParameter("Query", QueryRedaction.Redact(query.Value!));
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask OnResponseAsync(HttpLoggingInterceptorContext logContext) => ValueTask.CompletedTask;
    }
}
