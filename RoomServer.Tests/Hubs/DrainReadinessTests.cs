using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// DESIGN §4, §9: a draining replica's <c>/readyz</c> is 503, a problem with <c>code</c> <c>unavailable</c>, the reason
/// as <c>detail</c>, and <c>readiness</c> <c>draining</c>, <c>replica</c> (its configured ReplicaId) and <c>reason</c>.
/// The drain is held open by a Join held at the store (<see cref="HeldDrain"/>).
/// </summary>
[Trait("Suite", "Contract")]
public sealed class DrainReadinessTests
{
    private const string DrainingReplicaId = "draining-replica-7";

    [Fact]
    public async Task ADrainingReplicasReadinessIs503DrainingNamingTheReplica()
    {
        var server = new HeldJoinServer();
        await server.InitializeAsync();
        try
        {
            using (var ready = await server.Anonymous.GetAsync("/readyz"))
            {
                ready.StatusCode.Should().Be(HttpStatusCode.OK, "ready before the drain");
            }

            await using var drain = await HeldDrain.StartAsync(server);

            // The held Join keeps it draining: the next probe is answered by the draining replica too.
            using (var response = await server.Anonymous.GetAsync("/readyz"))
            {
                response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
                response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                problem.GetProperty("status").GetInt32().Should().Be(503);
                problem.GetProperty("code").GetString().Should().Be(RoomErrorCodes.Unavailable);
                problem.GetProperty("readiness").GetString().Should().Be("draining", "the replica is not ready because it drains");
                problem.GetProperty("replica").GetString().Should().Be(DrainingReplicaId, "the replica is the configured RoomServer:ReplicaId");
                var reason = problem.GetProperty("reason").GetString();
                reason.Should().NotBeNullOrWhiteSpace("a 503 says why");
                problem.GetProperty("detail").GetString().Should().Be(reason, "the reason is the problem's detail");
            }

            await drain.EndAsync();
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Embedded mode, its store's Join held on demand, a replica id of its own and a long drain.</summary>
    private sealed class HeldJoinServer : JoinHoldEmbeddedServer
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
        {
            ["RoomServer:DrainSeconds"] = "60",
            ["RoomServer:ReplicaId"] = DrainingReplicaId,
        };
    }
}
