using System.Net;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// <c>RoomServer__ReplicaId</c> is unique per replica (DESIGN.md §6): it holds the replica's claims on order records,
/// which two live processes under one id would share. The second process to start with an id a live one holds reports
/// not ready, naming it (log 1021), until the first goes; a replica restarted at once after a crash does not.
/// </summary>
public sealed class SharedReplicaIdTests(ITestOutputHelper output)
{
    private const string Clash = "another live process uses RoomServer__ReplicaId 'twin'";

    // The lease (3 s) and a heartbeat past it before a clash is called, and a process's start-up around it.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ASecondLiveProcessWithTheSameIdIsNotReadyUntilTheFirstGoes()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var settings = Settings(redis);
        await using var first = await RoomServerProcess.StartAsync(settings);
        using var firstHttp = new HttpClient { BaseAddress = first.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        await Readiness.UntilAsync(firstHttp, HttpStatusCode.OK, Bound, r => r is null);

        await using var second = await RoomServerProcess.StartAsync(settings);
        using var secondHttp = new HttpClient { BaseAddress = second.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        var reason = await Readiness.UntilAsync(secondHttp, HttpStatusCode.ServiceUnavailable, Bound, r => r?.Contains(Clash, StringComparison.Ordinal) == true);
        output.WriteLine($"the second process: {reason}");
        second.Output.Should().Contain($"Another live process uses RoomServer__ReplicaId 'twin'");
        await Readiness.UntilAsync(firstHttp, HttpStatusCode.OK, Bound, r => r is null); // the holder stays ready
        first.Output.Should().NotContain("Another live process uses RoomServer__ReplicaId");

        await first.StopAsync();
        await Readiness.UntilAsync(secondHttp, HttpStatusCode.OK, Bound, r => r is null);
        second.Output.Should().Contain("No other live process uses RoomServer__ReplicaId 'twin' now");
    }

    [Fact]
    public async Task AReplicaRestartedAtOnceAfterACrashFindsNoClash()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var replica = await RoomServerProcess.StartAsync(Settings(redis));
        using var http = new HttpClient { BaseAddress = replica.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        await Readiness.UntilAsync(http, HttpStatusCode.OK, Bound, r => r is null);

        replica.Kill();
        await replica.StartAgainAsync();

        await Readiness.UntilAsync(http, HttpStatusCode.OK, Bound, r => r is null);
        await Task.Delay(TimeSpan.FromSeconds(5)); // past the dead process's lease and a clash's wait
        await Readiness.UntilAsync(http, HttpStatusCode.OK, Bound, r => r is null);
        replica.Output.Should().NotContain("Another live process uses RoomServer__ReplicaId", "its old holder was dead: nobody renewed it");
    }

    private static Dictionary<string, string> Settings(RedisServerProcess redis) => SecurityTestServer.Settings(
        ("ConnectionStrings__Redis", redis.Endpoint),
        ("RoomServer__ReplicaId", "twin"),
        ("RoomServer__DrainSeconds", "1"));
}
