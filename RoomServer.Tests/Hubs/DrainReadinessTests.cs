using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// DESIGN §4, §9: a draining replica's <c>/readyz</c> is 503, a problem with <c>code</c> <c>unavailable</c>, the reason
/// as <c>detail</c>, and <c>readiness</c> <c>draining</c>, <c>replica</c> (its configured ReplicaId) and <c>reason</c>.
/// The drain is held open by a Join held at the store (a call in flight, which the drain waits for), as in
/// Metrics/DrainRefusalErrorsTests.
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

            var room = await server.CreateRoomAsync();
            await using var device = await server.ConnectAsync(await server.TokenAsync(room, "bob"));
            server.Hold.Arm("bob");
            var join = device.InvokeAsync("Join", room.Id, null);
            await server.Hold.Reached.WaitAsync(TimeSpan.FromSeconds(10));
            var stopping = Task.Factory.StartNew(server.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication, TaskCreationOptions.LongRunning);
            try
            {
                await Poll.UntilAsync(
                    async () =>
                    {
                        using var probe = await server.Anonymous.GetAsync("/readyz");
                        return probe.StatusCode == HttpStatusCode.ServiceUnavailable;
                    },
                    TimeSpan.FromSeconds(10),
                    "the replica drains");

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
            }
            finally
            {
                server.Hold.Release();
            }

            (await join).ValueKind.Should().NotBe(JsonValueKind.Undefined, "the held Join still answers before its connection is closed");
            await stopping.WaitAsync(TimeSpan.FromSeconds(10));
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
