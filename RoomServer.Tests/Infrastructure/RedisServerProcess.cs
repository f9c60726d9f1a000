using System.Globalization;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A private redis-server on a free loopback port with AOF on (appendfsync always), so a test can
/// stop or crash it and start it again on the same port and directory with every acknowledged
/// write reloaded — the durability promise of DESIGN.md §2.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private const int MaxStartAttempts = 3;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    private readonly string _executable;
    private readonly string _dataDir;
    private ChildProcess _process;

    private RedisServerProcess(string executable, int port, string dataDir, ChildProcess process)
    {
        _executable = executable;
        Port = port;
        _dataDir = dataDir;
        _process = process;
    }

    public int Port { get; }

    /// <summary>"127.0.0.1:port" — the value for <c>ConnectionStrings__Redis</c>.</summary>
    public string Endpoint => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public int Pid => _process.Pid;

    /// <summary>Captured stdout+stderr of the current process (bounded).</summary>
    public string Output => _process.Output.ToString();

    public static Task<RedisServerProcess> StartAsync() => StartAsync(FreePort.Next);

    /// <param name="nextPort">Where each attempt's port comes from (the TestKit's test hands it a taken one first).</param>
    public static async Task<RedisServerProcess> StartAsync(Func<int> nextPort)
    {
        var executable = RequiredTool.Resolve("redis-server");

        // FreePort can only pick a port that is free now; another process (a client's outgoing
        // connection, too) may take it before redis-server binds. Such a start is retried on a new
        // port, a bounded number of times, as nginx's and the replicas' are.
        for (var attempt = 1; ; attempt++)
        {
            var port = nextPort();
            var dataDir = Directory.CreateTempSubdirectory("roomshare-redis-").FullName;
            var redis = new RedisServerProcess(executable, port, dataDir, Launch(executable, port, dataDir));
            try
            {
                await redis.WaitUntilReadyAsync();
                return redis;
            }
            catch (InvalidOperationException) when (attempt < MaxStartAttempts && redis.Output.Contains("Address already in use", StringComparison.Ordinal))
            {
                await redis.DisposeAsync();
            }
            catch
            {
                await redis.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Graceful stop: SIGTERM (Redis fsyncs the AOF and exits), wait, SIGKILL after 10 s.</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(10));

    /// <summary>Starts redis-server again on the same port and directory, so the AOF reloads the data.</summary>
    public async Task StartAgainAsync()
    {
        // Kill() only sends the signal: give the old process a bounded moment to be gone.
        if (!await _process.WaitForExitAsync(TimeSpan.FromSeconds(10)))
        {
            throw new InvalidOperationException($"{_process.Name} is still running; StopAsync or Kill it first");
        }

        // One log for every life of this Redis (see RoomServerProcess.StartAgainAsync).
        var output = _process.Output;
        output.Append($"[... started again after exit {_process.ExitCode} ...]");
        _process.Dispose();
        _process = Launch(_executable, Port, _dataDir, output);
        await WaitUntilReadyAsync();
    }

    /// <summary>SIGKILL: a Redis crash. With appendfsync always, every acknowledged write is already on disk.</summary>
    public void Kill() => _process.Kill();

    /// <summary>Makes this server a replica of <paramref name="master"/> and waits until its link is up (confirmed-writes tests).</summary>
    public async Task ReplicateAsync(RedisServerProcess master)
    {
        await ExecuteAsync("REPLICAOF", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture));
        await Poll.UntilAsync(
            async () => (await ExecuteAsync("INFO", "replication"))?.Contains("master_link_status:up", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(10),
            "the replica's link to its master is up");
    }

    /// <summary>Runs one command; returns a string, an integer as its decimal text, or null for nil.</summary>
    public async Task<string?> ExecuteAsync(params string[] command)
    {
        var reply = await RespClient.ExecuteAsync(Port, command, CommandTimeout);
        return reply switch
        {
            null => null,
            string s => s,
            long n => n.ToString(CultureInfo.InvariantCulture),
            _ => throw new InvalidOperationException($"`{string.Join(' ', command)}` returned an array: use ExecuteListAsync"),
        };
    }

    /// <summary>Runs a command whose reply is an array (LRANGE, HGETALL, SMEMBERS...); nil → empty.</summary>
    public async Task<IReadOnlyList<string?>> ExecuteListAsync(params string[] command)
    {
        var reply = await RespClient.ExecuteAsync(Port, command, CommandTimeout);
        return reply switch
        {
            null => [],
            object?[] items => items.Select(item => item switch
            {
                null => null,
                long n => n.ToString(CultureInfo.InvariantCulture),
                string s => s,
                _ => throw new InvalidOperationException($"`{string.Join(' ', command)}` returned a nested array"),
            }).ToList(),
            _ => throw new InvalidOperationException($"`{string.Join(' ', command)}` did not return an array: use ExecuteAsync"),
        };
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // A temp dir left behind is not worth failing a test over.
        }
    }

    private static ChildProcess Launch(string executable, int port, string dataDir, OutputLog? output = null)
    {
        string[] arguments =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--protected-mode", "no",
            "--save", string.Empty,
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--dir", dataDir,
            "--maxmemory-policy", "noeviction",
            "--daemonize", "no",
        ];
        return ChildProcess.Start(executable, arguments, $"redis-server :{port}", workingDirectory: dataDir, output: output);
    }

    private async Task WaitUntilReadyAsync()
    {
        // Poll PING until it answers; bounded by StartTimeout, and stops early if redis exited
        // (a port taken between FreePort and bind shows up here, with redis's own message).
        var deadline = DateTime.UtcNow + StartTimeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(TimeSpan.FromSeconds(5)); // drains its output into the message
                throw new InvalidOperationException($"redis-server exited during start-up: {_process.Describe()}");
            }

            try
            {
                // Ours, not a server that took the port first (it would answer as well while ours fails to bind).
                if (await RespClient.ExecuteAsync(Port, ["PING"], TimeSpan.FromSeconds(1)) is "PONG"
                    && await RespClient.ExecuteAsync(Port, ["INFO", "server"], TimeSpan.FromSeconds(1)) is string info
                    && info.Contains($"process_id:{_process.Pid.ToString(CultureInfo.InvariantCulture)}\r\n", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
            {
                last = ex; // e.g. "LOADING" while the AOF is replayed
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        throw new TimeoutException(
            $"redis-server did not answer PING within {StartTimeout.TotalSeconds:0}s (last error: {last?.Message}): {_process.Describe()}");
    }
}
