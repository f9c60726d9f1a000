using System.Net.Http.Json;
using System.Text.Json;
using System.Globalization;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// One RoomServer replica as a real process (<c>dotnet RoomServer.dll</c>), so tests can kill -9 it,
/// run several on one Redis, and put nginx in front — none of which an in-process host can do.
/// </summary>
public sealed class RoomServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, string?> _environment;
    private readonly TimeSpan _startTimeout;
    private ChildProcess _process;

    private RoomServerProcess(Uri baseUrl, string replicaId, Dictionary<string, string?> environment, TimeSpan startTimeout, ChildProcess process)
    {
        BaseUrl = baseUrl;
        ReplicaId = replicaId;
        _environment = environment;
        _startTimeout = startTimeout;
        _process = process;
    }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseUrl { get; }

    public int Port => BaseUrl.Port;

    public int Pid => _process.Pid;

    /// <summary><c>RoomServer__ReplicaId</c>: the caller's, or "replica-&lt;port&gt;" when none was given.</summary>
    public string ReplicaId { get; }

    /// <summary>Captured stdout+stderr so far, over every restart (bounded to the tail).</summary>
    public string Output => _process.Output.ToString();

    public bool HasExited => _process.HasExited;

    /// <summary>The process's exit code once it has exited; null while it runs.</summary>
    public int? ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts a replica and waits for <c>GET /healthz</c> 200. <paramref name="settings"/> are environment
    /// variables (<c>ConnectionStrings__Redis</c>, <c>RoomServer__ApiKeys__0</c>, <c>RoomServer__Jwt__SigningKey</c>...).
    /// Inherited <c>RoomServer__*</c>, <c>ConnectionStrings__*</c> and <c>ASPNETCORE_*</c> variables are
    /// removed first so the test host's environment never leaks into the replica.
    /// </summary>
    public static async Task<RoomServerProcess> StartAsync(
        IReadOnlyDictionary<string, string>? settings = null,
        string environment = "Production",
        TimeSpan? startTimeout = null)
    {
        var dll = RepoPaths.RoomServerDll;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} does not exist: build first: dotnet build");
        }

        // FreePort can only pick a port that is free now; another process may take it before the
        // replica binds. Such a start is recognised (a bind failure, or another server answering on
        // the port) and retried on a new port, a bounded number of times.
        for (var attempt = 1; ; attempt++)
        {
            var server = Launch(dll, FreePort.Next(), settings, environment, startTimeout ?? DefaultStartTimeout);
            try
            {
                await server.WaitUntilHealthyAsync();
                return server;
            }
            catch (PortTakenException) when (attempt < MaxStartAttempts)
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>SIGKILL: the replica dies mid-session without a goodbye (the failover tests).</summary>
    public void Kill() => _process.Kill();

    /// <summary>Waits (without polling) until the process has exited, at most <paramref name="timeout"/>; whether it did.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    /// <summary>Graceful: SIGTERM (ASP.NET Core runs its shutdown), wait up to 15 s, then SIGKILL.</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(15));

    /// <summary>Starts the replica again on the same port with the same settings (after Kill or StopAsync).</summary>
    public async Task StartAgainAsync()
    {
        if (!await _process.WaitForExitAsync(TimeSpan.FromSeconds(10)))
        {
            throw new InvalidOperationException($"{_process.Name} is still running; StopAsync or Kill it first");
        }

        // One log for the replica's every life: what it wrote before a restart stays in Output (the chaos battery's
        // secret scan reads all of it).
        var output = _process.Output;
        output.Append($"[... started again after exit {_process.ExitCode} ...]");
        _process.Dispose();
        _process = Launch(RepoPaths.RoomServerDll, Port, _environment, output);
        await WaitUntilHealthyAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    private static ChildProcess Launch(string dll, int port, IReadOnlyDictionary<string, string?> environment, OutputLog? output = null)
    {
        // The SDK tells `dotnet test` which host runs it; use the same one rather than whatever is on PATH.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return ChildProcess.Start(dotnet, [dll], $"RoomServer :{port}", RepoPaths.RoomServerProjectDir, environment, output);
    }

    private const int MaxStartAttempts = 3;

    private static RoomServerProcess Launch(string dll, int port, IReadOnlyDictionary<string, string>? settings, string environment, TimeSpan timeout)
    {
        var baseUrl = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (key.StartsWith("RoomServer__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase))
            {
                env[key] = null;
            }
        }

        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        env["ASPNETCORE_ENVIRONMENT"] = environment;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        // A known replica id lets tests assert which replica served a Join — and tells this replica
        // from another server that took the port first.
        const string ReplicaIdKey = "RoomServer__ReplicaId";
        var replicaId = env.TryGetValue(ReplicaIdKey, out var given) && given is not null ? given : $"replica-{port}";
        env[ReplicaIdKey] = replicaId;
        return new RoomServerProcess(baseUrl, replicaId, env, timeout, Launch(dll, port, env));
    }

    private async Task WaitUntilHealthyAsync()
    {
        // Poll /healthz until 200, bounded by the start timeout; stop early if the process exited
        // (e.g. Production refusing to start without secrets) and show its output either way.
        using var http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + _startTimeout;
        var last = "no attempt yet";
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(TimeSpan.FromSeconds(5)); // drains its output into the message
                var description = _process.Describe();
                throw description.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
                    ? new PortTakenException($"port {Port} was taken before RoomServer bound it: {description}")
                    : new InvalidOperationException($"RoomServer exited during start-up: {description}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    var replica = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replica").GetString();
                    if (replica != ReplicaId)
                    {
                        throw new PortTakenException($"port {Port} is answered by replica '{replica}', not '{ReplicaId}'");
                    }

                    return;
                }

                last = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException(
            $"RoomServer did not answer GET /healthz 200 within {_startTimeout.TotalSeconds:0}s (last: {last}): {_process.Describe()}");
    }
}

/// <summary>Another process got the port first; the start is retried on a new one.</summary>
public sealed class PortTakenException(string message) : Exception(message);
