using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Hubs;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Metrics;

/// <summary>
/// A draining replica's 503s for hub requests (the drain gate, DESIGN.md §9) are retried by nginx on another replica:
/// no client sees them, so, like <c>/readyz</c>'s own 503s, they are not counted in <c>roomshare_errors_total</c> — every
/// rolling deploy raised an "unavailable errors" alert. The drain is held open by a Join held at the store (a call
/// in flight, which the drain waits for), so the refusals are made while it drains. The drain waits for calls a quarter of
/// its budget: <c>DrainSeconds</c> 60 gives a loaded box 12 s for the requests below, where the default gave it 4.
/// </summary>
[Trait("Suite", "Contract")]
public sealed class DrainRefusalErrorsTests
{
    [Fact]
    public async Task TheDrainGatesRefusalsAreNotCountedAsErrors()
    {
        var server = new HeldJoinServer();
        await server.InitializeAsync();
        try
        {
            using var errors = new MetricCollector<long>(server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RoomMetrics.MeterName, "roomshare.errors");
            await using (var drain = await HeldDrain.StartAsync(server))
            {
                // A negotiate, and a request naming a connection this replica does not hold: both the gate's.
                using var negotiate = await server.Anonymous.PostAsync("/hubs/room/negotiate?negotiateVersion=1", null);
                using var unknown = await server.Anonymous.GetAsync("/hubs/room?id=not-held-here");
                foreach (var refused in new[] { negotiate, unknown })
                {
                    refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a draining replica refuses it for nginx to retry elsewhere");
                    refused.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
                    (await refused.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(RoomErrorCodes.Unavailable);
                }

                errors.GetMeasurementSnapshot().Should().BeEmpty("no client sees a refusal nginx retries on another replica");
                await drain.EndAsync();
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Embedded mode, its store's Join held on demand, and a long drain.</summary>
    private sealed class HeldJoinServer : JoinHoldEmbeddedServer
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
        {
            ["RoomServer:DrainSeconds"] = "60",
        };
    }
}
