using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

public sealed class RedisServerProcessTests
{
    /// <summary>
    /// A process started again keeps one output for all its lives: the chaos battery scans every replica's and Redis's
    /// output for secrets, and what a process wrote before its kill must be in the scan.
    /// </summary>
    [Fact]
    public async Task StartedAgainItKeepsWhatItWroteBeforeItsKill()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var firstPid = redis.Pid;
        redis.Kill();
        await redis.StartAgainAsync();

        redis.Pid.Should().NotBe(firstPid);
        // The output is read asynchronously: the second life's line may come a moment after it answers.
        var readyLines = await Poll.ForAsync(
            () => Task.FromResult(redis.Output.Split('\n').Count(line => line.Contains("Ready to accept connections", StringComparison.Ordinal))),
            count => count >= 2,
            TimeSpan.FromSeconds(10),
            count => $"{count} start-up line(s) in the output");
        readyLines.Should().Be(2, "both lives' start-up lines are in the output");
        redis.Output.Should().Contain("started again after exit");
    }

    [Fact]
    public async Task StartsOnALoopbackPortAndAnswers()
    {
        await using var redis = await RedisServerProcess.StartAsync();

        redis.Endpoint.Should().Be($"127.0.0.1:{redis.Port}");
        (await redis.ExecuteAsync("PING")).Should().Be("PONG");
        (await redis.ExecuteAsync("SET", "k", "vé")).Should().Be("OK");
        (await redis.ExecuteAsync("GET", "k")).Should().Be("vé");
        (await redis.ExecuteAsync("GET", "missing")).Should().BeNull();
        (await redis.ExecuteAsync("RPUSH", "l", "a", "b")).Should().Be("2");
        (await redis.ExecuteListAsync("LRANGE", "l", "0", "-1")).Should().Equal("a", "b");
    }

    [Fact]
    public async Task APortTakenBeforeRedisBindsItIsRetriedOnAnother()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var ports = new Queue<int>([takenPort, FreePort.Next()]);

        await using var redis = await RedisServerProcess.StartAsync(ports.Dequeue);

        redis.Port.Should().NotBe(takenPort);
        (await redis.ExecuteAsync("PING")).Should().Be("PONG");
        ports.Should().BeEmpty("the first attempt met the taken port and the second started");
    }

    [Fact]
    public async Task AnErrorReplyThrowsWithRedissText()
    {
        await using var redis = await RedisServerProcess.StartAsync();

        var act = () => redis.ExecuteAsync("NOSUCHCOMMAND");

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("unknown command");
    }

    [Fact]
    public async Task StopThenStartAgainReloadsTheAppendOnlyFile()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.ExecuteAsync("SET", "durable", "yes");

        await redis.StopAsync();
        await redis.StartAgainAsync();

        (await redis.ExecuteAsync("GET", "durable")).Should().Be("yes");
    }

    [Fact]
    public async Task KillThenStartAgainKeepsAnAcknowledgedWrite()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.ExecuteAsync("HSET", "h", "f", "1");

        redis.Kill();
        await redis.StartAgainAsync();

        (await redis.ExecuteAsync("HGET", "h", "f")).Should().Be("1");
    }
}
