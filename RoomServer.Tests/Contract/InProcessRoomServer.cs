using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The real RoomServer (its own Program) on real Kestrel at 127.0.0.1:port, in the test process, so
/// the contract suite speaks real WebSockets and HTTP to it without starting a child process.
/// </summary>
public sealed class InProcessRoomServer : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string> _settings;

    private readonly Action<IServiceCollection>? _configureServices;

    /// <param name="settings">Configuration keys and values.</param>
    /// <param name="port">The loopback port to listen on.</param>
    /// <param name="configureServices">Runs after the server's own registrations: a test's decorator of one of them.</param>
    public InProcessRoomServer(IReadOnlyDictionary<string, string> settings, int port, Action<IServiceCollection>? configureServices = null)
    {
        _settings = settings;
        _configureServices = configureServices;
        BaseUrl = new Uri($"http://127.0.0.1:{port}");
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
    }

    public Uri BaseUrl { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (ServerLogFile.Folder is { } folder)
        {
            var path = Path.Combine(folder, $"server-{BaseUrl.Port}-{Guid.NewGuid():N}.log");
            builder.ConfigureLogging(logging => logging.AddProvider(new ServerLogFile(path)).AddFilter<ServerLogFile>("Microsoft.AspNetCore.SignalR", LogLevel.Debug));
        }

        if (_configureServices is { } configure)
        {
            builder.ConfigureTestServices(configure);
        }
    }
}
