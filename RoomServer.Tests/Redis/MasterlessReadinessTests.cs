using System.Diagnostics;
using System.Net;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// /readyz on one Redis listed with its replica (DESIGN.md §9): the library serves PING and pub/sub from the replica
/// once the master is gone, so a check of those alone answered 200 while every write failed. Ready needs a connected
/// master, whatever <c>ReplicasToAcknowledge</c> is (0 here, the single server's default).
/// </summary>
public sealed class MasterlessReadinessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AReplicaWhoseRedisMasterIsGoneIsNotReadyThoughTheRedisReplicaAnswers()
    {
        await using var master = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync();
        await replica.ReplicateAsync(master);
        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(
            ("ConnectionStrings__Redis", $"{master.Endpoint},{replica.Endpoint},abortConnect=false"),
            ("RoomServer__Redis__ReplicasToAcknowledge", "0")));
        using var anonymous = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        (await Readiness.UntilAsync(anonymous, HttpStatusCode.OK, Bound)).Should().BeNull("both Redis nodes are up");

        // The moment of the kill may fail one PING (a timeout); what matters is what /readyz says once the library has
        // marked the master down and answers from the replica: not ready, because there is no master.
        master.Kill();
        var clock = Stopwatch.StartNew();
        var reason = await Readiness.UntilAsync(anonymous, HttpStatusCode.ServiceUnavailable, Bound, r => r?.Contains("master", StringComparison.Ordinal) == true);
        output.WriteLine($"/readyz 503 {clock.ElapsedMilliseconds} ms after the master's kill: {reason}");

        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(200);
            using var again = await anonymous.GetAsync("/readyz");
            again.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "it stays unready while no master is connected");
        }
    }
}
