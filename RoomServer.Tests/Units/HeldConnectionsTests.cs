using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Metrics;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The transport ids the drain gate lets through (DESIGN.md §9): a long-polling connection's id is held from its
/// connect to its disconnect and then forgotten, so a replica that never drains keeps no entry per connection it
/// ever had; once it drains, ids are kept (the process is exiting). A WebSocket is never recorded.
/// </summary>
public sealed class HeldConnectionsTests
{
    [Fact]
    public void ALongPollingConnectionIsHeldUntilItsDisconnectOutsideADrain()
    {
        var (held, _, _) = Create();
        var connection = Connection("c1", "token-1", HttpTransportType.LongPolling);

        held.Connected(connection);
        held.Holds("token-1").Should().BeTrue();

        held.Disconnected("c1");
        held.Holds("token-1").Should().BeFalse("a replica that never drains forgets every connection it had");
    }

    [Fact]
    public void AWebSocketIsNotRecordedItMakesNoFurtherRequests()
    {
        var (held, _, _) = Create();

        held.Connected(Connection("c1", "token-1", HttpTransportType.WebSockets));

        held.Holds("token-1").Should().BeFalse();
    }

    [Fact]
    public async Task DuringADrainADisconnectedConnectionsIdIsKept()
    {
        var (held, drain, lifetime) = Create();
        await drain.StartAsync(CancellationToken.None);
        held.Connected(Connection("c1", "token-1", HttpTransportType.ServerSentEvents));

        lifetime.StopApplication();
        drain.IsDraining.Should().BeTrue();
        held.Disconnected("c1");

        held.Holds("token-1").Should().BeTrue("its next poll is answered by SignalR (a 204), not cut by the gate");
    }

    private static (HeldConnections Held, ReplicaDrain Drain, ApplicationLifetime Lifetime) Create()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new RoomServerOptions { DrainSeconds = 1 });
        var membership = new RoomMembership(new InProcessBackplane(), options, new RoomMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), NullLogger<RoomMembership>.Instance);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var drain = new ReplicaDrain(membership, lifetime, options, NullLogger<ReplicaDrain>.Instance);
        return (new HeldConnections(drain), drain, lifetime);
    }

    private static HubConnectionContext Connection(string connectionId, string transportId, HttpTransportType transport)
    {
        var http = new DefaultHttpContext();
        http.Request.QueryString = new QueryString("?id=" + transportId);
        var context = new DefaultConnectionContext(connectionId, new Pipes(new Pipe().Reader, new Pipe().Writer), new Pipes(new Pipe().Reader, new Pipe().Writer));
        context.Features.Set<IHttpContextFeature>(new HttpContextFeature(http));
        context.Features.Set<IHttpTransportFeature>(new TransportFeature(transport));
        return new HubConnectionContext(context, new HubConnectionContextOptions(), NullLoggerFactory.Instance);
    }

    private sealed record Pipes(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    private sealed class HttpContextFeature(HttpContext http) : IHttpContextFeature
    {
        public HttpContext? HttpContext { get; set; } = http;
    }

    private sealed record TransportFeature(HttpTransportType TransportType) : IHttpTransportFeature;
}
