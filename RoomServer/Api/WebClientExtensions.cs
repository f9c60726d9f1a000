namespace RoomShare.RoomServer.Api;

/// <summary>Serves the web client (built into wwwroot from ClientApp) and, in Development, the demo.</summary>
public static class WebClientExtensions
{
    private const string DemoPage = "demo.html";

    public static WebApplication UseWebClient(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            // The demo page exists only in Development. The static file provider ignores leading slashes
            // ("//demo.html" is the same file), so this does too.
            app.Use((context, next) =>
            {
                if (string.Equals(context.Request.Path.Value?.TrimStart('/'), DemoPage, StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions { OnPrepareResponse = file => WebClientHeaders.Apply(file.Context.Response.Headers) });
        return app;
    }
}
