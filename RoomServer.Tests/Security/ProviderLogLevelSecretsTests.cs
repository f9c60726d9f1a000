using System.Net;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// A provider's own log level (the usual <c>Logging__Console__LogLevel__Default=Information</c>) wins over a
/// rule naming no provider: it must not bring back the framework's request lines, which print a
/// browser's <c>access_token</c>.
/// </summary>
public sealed class ProviderLogLevelSecretsTests
{
    [Fact]
    public async Task AConsoleSpecificLogLevelDoesNotBringBackTheTokenInRequestLines()
    {
        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(
            ("Logging__Console__LogLevel__Default", "Information")));
        using var api = SecurityTestServer.Api(server);
        using var anonymous = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        var room = await SecurityTestServer.CreateRoomAsync(api);
        var token = await SecurityTestServer.TokenAsync(api, room, "ann");

        (await anonymous.PostAsync($"/hubs/room/negotiate?negotiateVersion=1&access_token={token}", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await server.StopAsync();

        server.Output.Should().Contain("info: Microsoft.AspNetCore.Routing", "the framework's Information lines reach the console").And.NotContain(token);
    }
}
