using System.Net;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// <c>RoomServer__ReplicaId</c> is unique per replica (DESIGN.md §6): it holds the replica's claims on order records,
/// which two live processes under one id would share. Each process holds <c>rs:replica:ID</c> (its nonce and a renewal
/// number) while it lives; the second process to start with an id a live one holds reports not ready, naming it
/// (log 1021), until it holds the id itself; a replica restarted at once after a crash does not.
/// </summary>
public sealed class SharedReplicaIdTests(ITestOutputHelper output)
{
    private const string Key = "rs:replica:twin";
    private const string Clash = "another live process uses RoomServer__ReplicaId 'twin'";
    private const string ClashLogged = "Another live process holds RoomServer__ReplicaId 'twin'";

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ASecondLiveProcessWithTheSameIdIsNotReadyUntilTheFirstGivesTheIdBack()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var settings = Settings(redis);
        await using var first = await RoomServerProcess.StartAsync(settings);
        using var firstHttp = new HttpClient { BaseAddress = first.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        await Readiness.UntilAsync(firstHttp, HttpStatusCode.OK, Bound, r => r is null);
        var firstNonce = Nonce(await redis.ExecuteAsync("GET", Key));

        await using var second = await RoomServerProcess.StartAsync(settings);
        using var secondHttp = new HttpClient { BaseAddress = second.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        var reason = await Readiness.UntilAsync(secondHttp, HttpStatusCode.ServiceUnavailable, Bound, r => r?.Contains(Clash, StringComparison.Ordinal) == true);
        output.WriteLine($"the second process: {reason}");
        await Poll.UntilAsync(() => second.Output.Contains(ClashLogged, StringComparison.Ordinal), Bound, "log 1021 from the second process");
        for (var i = 0; i < 3; i++)
        {
            await Readiness.UntilAsync(firstHttp, HttpStatusCode.OK, TimeSpan.Zero, r => r is null); // the holder stays ready, now
            await Task.Delay(500);
        }

        first.Output.Should().NotContain("Another live process holds RoomServer__ReplicaId");
        Nonce(await redis.ExecuteAsync("GET", Key)).Should().Be(firstNonce, "the first process holds the id throughout");

        // A stopped replica gives its id back: the key is not left to run out its lease.
        await first.StopAsync();
        Nonce(await redis.ExecuteAsync("GET", Key)).Should().NotBe(firstNonce, "the first process released the id as it stopped");
        await Readiness.UntilAsync(secondHttp, HttpStatusCode.OK, Bound, r => r is null);
        await Poll.UntilAsync(() => second.Output.Contains("This process holds RoomServer__ReplicaId 'twin' again", StringComparison.Ordinal), Bound, "log 1022");
    }

    [Fact]
    public async Task AReplicaRestartedAtOnceAfterACrashWaitsOutItsOldLeaseWithoutAClash()
    {
        await using var redis = await RedisServerProcess.StartAsync();

        // A 4 s store deadline makes the lease 9 s (two deadlines and a heartbeat): longer than a restart, so the new
        // process does find the dead one's key.
        await using var replica = await RoomServerProcess.StartAsync(Settings(redis, ("RoomServer__StoreTimeoutMilliseconds", "4000")));
        using var http = new HttpClient { BaseAddress = replica.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        await Readiness.UntilAsync(http, HttpStatusCode.OK, Bound, r => r is null);
        var before = Nonce(await redis.ExecuteAsync("GET", Key));

        replica.Kill();
        await replica.StartAgainAsync();
        Nonce(await redis.ExecuteAsync("GET", Key)).Should().Be(before, "the crashed process's key outlives the restart");

        await Poll.UntilAsync(
            async () => Nonce(await redis.ExecuteAsync("GET", Key)) is { } now && now != before, Bound, "the restarted process takes its id once the old lease runs out");
        await Task.Delay(TimeSpan.FromSeconds(2)); // two more checks
        await Readiness.UntilAsync(http, HttpStatusCode.OK, Bound, r => r is null);
        replica.Output.Should().NotContain("Another live process holds RoomServer__ReplicaId", "the old holder was dead: nobody renewed its key");
    }

    private static string? Nonce(string? value) => value?[..value.LastIndexOf(':')];

    private static Dictionary<string, string> Settings(RedisServerProcess redis, params (string Key, string Value)[] extra) => SecurityTestServer.Settings(
        [("ConnectionStrings__Redis", redis.Endpoint), ("RoomServer__ReplicaId", "twin"), ("RoomServer__DrainSeconds", "1"), .. extra]);
}
