using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The real RoomServer (its own Program) on real Kestrel at 127.0.0.1:port, in the test process, so
/// the contract suite speaks real WebSockets and HTTP to it without starting a child process.
/// </summary>
public sealed class InProcessRoomServer : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string> _settings;

    public InProcessRoomServer(IReadOnlyDictionary<string, string> settings, int port)
    {
        _settings = settings;
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
    }
}
