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
/// ever had; once it drains, ids are kept (the process is exiting). A WebSocket is never recorded. And which
/// requests naming a held id the gate serves.
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

    /// <summary>
    /// What the drain gate lets through for a held id: a poll, a send or the DELETE — never a request that could
    /// open a connection, whatever id it names (an upgrade by any of its spellings, an event stream, a
    /// negotiate). Without the gate's own checks, SignalR would answer an upgrade or event stream naming a
    /// long-polling connection with its 400, not the 503 nginx retries elsewhere.
    /// </summary>
    [Theory]
    [InlineData("a poll", "GET", null, null, null, false, true)]
    [InlineData("a send", "POST", null, null, null, false, true)]
    [InlineData("the DELETE", "DELETE", null, null, null, false, true)]
    [InlineData("a WebSocket upgrade", "GET", "websocket", "Upgrade", null, false, false)]
    [InlineData("an Upgrade header alone", "GET", "websocket", null, null, false, false)]
    [InlineData("a Connection: keep-alive, upgrade header alone", "GET", null, "keep-alive, upgrade", null, false, false)]
    [InlineData("HTTP/2's extended CONNECT", "CONNECT", null, null, null, false, false)]
    [InlineData("an event stream", "GET", null, null, "text/event-stream", false, false)]
    [InlineData("an event stream among other types", "GET", null, null, "text/plain, TEXT/EVENT-STREAM;q=0.9", false, false)]
    [InlineData("a PUT", "PUT", null, null, null, false, false)]
    [InlineData("a negotiate", "POST", null, null, null, true, false)]
    public void TheDrainGateServesOnlyPollsSendsAndDeletesOfAHeldId(string what, string method, string? upgrade, string? connectionHeader, string? accept, bool negotiate, bool served)
    {
        var (held, _, _) = Create();
        held.Connected(Connection("c1", "token-1", HttpTransportType.LongPolling));
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.QueryString = new QueryString("?id=token-1");
        if (upgrade is not null)
        {
            http.Request.Headers.Upgrade = upgrade;
        }

        if (connectionHeader is not null)
        {
            http.Request.Headers.Connection = connectionHeader;
        }

        if (accept is not null)
        {
            http.Request.Headers.Accept = accept;
        }

        var metadata = negotiate ? new EndpointMetadataCollection(new HubMetadata(typeof(RoomHub)), new NegotiateMetadata()) : new EndpointMetadataCollection(new HubMetadata(typeof(RoomHub)));
        http.SetEndpoint(new Endpoint(null, metadata, "hub"));

        DrainGate.ServesHeldConnection(http, held).Should().Be(served, what);

        // The same request naming an id this replica does not hold is never served.
        http.Request.QueryString = new QueryString("?id=token-2");
        DrainGate.ServesHeldConnection(http, held).Should().BeFalse($"{what} of an id not held here");
    }

    private static (HeldConnections Held, ReplicaDrain Drain, ApplicationLifetime Lifetime) Create()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new RoomServerOptions { DrainSeconds = 1 });
        var membership = new RoomMembership(new InProcessBackplane(), options, new RoomMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), NullLogger<RoomMembership>.Instance);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var shutdown = new ReplicaShutdown();
        var drain = new ReplicaDrain(membership, lifetime, shutdown, options, NullLogger<ReplicaDrain>.Instance);
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
