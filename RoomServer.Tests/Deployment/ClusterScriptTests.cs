using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// eng/cluster.sh end to end: `up 3` starts redis, three real replicas and nginx; clients through nginx
/// spread over the replicas and keep their affinity; `down` leaves none of those processes behind.
/// Uses the RoomServer build of this test run (`--no-build --configuration &lt;this configuration&gt;`).
/// </summary>
public sealed class ClusterScriptTests : IAsyncLifetime, IDisposable
{
    private const char RecordSeparator = '\u001e';
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly string stateDir = Path.Combine(Path.GetTempPath(), $"roomshare-cluster-{Guid.NewGuid():N}");
    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = Timeout };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // A failed test must not leave a cluster running: `down` is idempotent.
        if (Directory.Exists(stateDir))
        {
            await RunScriptAsync("down");
        }
    }

    public void Dispose() => http.Dispose();

    [Fact]
    public async Task UpStartsAClusterThatSpreadsRoomsOverReplicasAndDownStopsEveryProcess()
    {
        var (upExit, upOutput) = await RunScriptAsync("up", "3", "--no-build", "--configuration", Configuration);
        upExit.Should().Be(0, $"eng/cluster.sh up must succeed:\n{upOutput}\n{Logs()}");

        var env = ReadClusterEnv();
        var baseUrl = new Uri(env["BASE_URL"]);
        var apiKey = env["API_KEY"];
        upOutput.Should().Contain(baseUrl.ToString().TrimEnd('/')).And.Contain(apiKey).And.Contain("curl");
        var replicaPorts = env["REPLICA_URLS"].Split(',')
            .Select(entry => entry.Split(':', 2))
            .ToDictionary(parts => new Uri(parts[1]).Port.ToString(CultureInfo.InvariantCulture), parts => parts[0], StringComparer.Ordinal);
        replicaPorts.Values.Should().BeEquivalentTo(["r1", "r2", "r3"]);
        var pids = RecordedProcesses();
        pids.Select(p => p.Name).Should().BeEquivalentTo(["redis", "r1", "r2", "r3", "nginx"]);

        await NginxWorkersReachTheirTempFilesAndSecretsStayPrivateAsync(pids.Single(p => p.Name == "nginx").Pid);

        // Readiness through nginx.
        using (var ready = await http.GetAsync(new Uri(baseUrl, "/readyz")))
        {
            ready.StatusCode.Should().Be(HttpStatusCode.OK, "/readyz through nginx");
        }

        // WebSockets through nginx without a cookie or a hint: a member's upgrade reaches its room's replica
        // (its token names the room, DESIGN.md §7), the replica that answers Join is the one nginx proxied
        // to, and new rooms spread over the replicas.
        var rooms = new List<(string RoomId, string Token, string Replica)>();
        for (var i = 0; i < 30 && rooms.Select(r => r.Replica).Distinct().Count() < 2; i++)
        {
            var (roomId, token) = await CreateRoomAndTokenAsync(baseUrl, apiKey);
            var (upstreamPort, replica) = await JoinOverWebSocketAsync(baseUrl, roomId, token, cookie: null);
            replica.Should().Be(replicaPorts[upstreamPort], "Join must be answered by the replica nginx proxied the upgrade to");
            rooms.Add((roomId, token, replica));
        }

        rooms.Select(r => r.Replica).Distinct().Should().HaveCountGreaterThanOrEqualTo(2, "new rooms must spread over the replicas");

        // A negotiating member gets the affinity cookie once, and its negotiates and WebSockets all reach
        // its room's replica.
        var (firstRoomId, firstToken, firstReplica) = rooms[0];
        var (cookie, negotiatedPort) = await NegotiateAsync(baseUrl, firstToken, cookie: null);
        cookie.Should().StartWith("rs_affinity=");
        replicaPorts[negotiatedPort].Should().Be(firstReplica, "the member's token names the room, which decides the replica");
        for (var i = 0; i < 3; i++)
        {
            var (_, again) = await NegotiateAsync(baseUrl, firstToken, cookie);
            again.Should().Be(negotiatedPort, "a member always reaches its room's replica");
            var (wsPort, replica) = await JoinOverWebSocketAsync(baseUrl, firstRoomId, firstToken, cookie);
            wsPort.Should().Be(negotiatedPort, "negotiate and connect must reach one replica");
            replica.Should().Be(replicaPorts[negotiatedPort]);
        }

        var (downExit, downOutput) = await RunScriptAsync("down");
        downExit.Should().Be(0, $"eng/cluster.sh down must succeed:\n{downOutput}");
        Directory.Exists(stateDir).Should().BeFalse("down removes the state dir");
        foreach (var (name, pid, startTime) in pids)
        {
            StartTimeOf(pid).Should().NotBe(startTime, $"{name} (pid {pid}) must be stopped by down");
        }

        // In stages, each waited for by the script: nginx (no new traffic), the replicas (they drain, and
        // calls in flight still need Redis), then redis.
        var stages = StopStages.Select(line => downOutput.IndexOf(line, StringComparison.Ordinal)).ToList();
        stages.Should().NotContain(-1, $"down reports each stage:\n{downOutput}").And.BeInAscendingOrder($"nginx, then the replicas, then redis:\n{downOutput}");
    }

    /// <summary>
    /// The scripts' readiness checks ask whether the process they started holds the port's listening socket: another
    /// server that took the port first would answer the check while theirs failed to bind, and be measured instead.
    /// </summary>
    [Fact]
    public async Task AServerIsOursOnlyWhenItsProcessHoldsThePortsListeningSocket()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

        (await ListensOnAsync(self, port)).Should().Be(0, "this test host listens there");
        (await ListensOnAsync("1", port)).Should().NotBe(0, "init does not");
        listener.Stop();
        (await ListensOnAsync(self, port)).Should().NotBe(0, "nothing listens there any more");
    }

    private static async Task<int> ListensOnAsync(string pid, string port)
    {
        using var bash = ChildProcess.Start("bash", ["-c", $"source eng/lib/processes.sh && listens_on {pid} {port}"], "listens_on", RepoPaths.RepoRoot);
        (await bash.WaitForExitAsync(Timeout)).Should().BeTrue(bash.Describe());
        return bash.ExitCode!.Value;
    }

    [Fact]
    public async Task UpAndDownRefuseToRemoveAStateDirectoryTheyDidNotMake()
    {
        // A state directory pointed at somewhere else (a home directory, say) must never be wiped.
        Directory.CreateDirectory(stateDir);
        var sentinel = Path.Combine(stateDir, "notes.txt");
        await File.WriteAllTextAsync(sentinel, "mine");
        try
        {
            var (downExit, downOutput) = await RunScriptAsync("down");
            downExit.Should().NotBe(0, downOutput);
            downOutput.Should().Contain("not removing it");
            var (upExit, upOutput) = await RunScriptAsync("up", "1", "--no-build", "--configuration", Configuration);
            upExit.Should().NotBe(0, upOutput);
            upOutput.Should().Contain("not removing it");
            File.Exists(sentinel).Should().BeTrue("neither command removed what it did not make");
            File.Exists(Path.Combine(stateDir, "procs")).Should().BeFalse("up started nothing");
        }
        finally
        {
            Directory.Delete(stateDir, recursive: true);
        }
    }

    [Fact]
    public async Task UpAndDownWorkWithARelativeStateDirectoryWhosePathHoldsASpaceAndAnAmpersand()
    {
        // README: everything lives in `$ROOMSHARE_CLUSTER_DIR`. A relative one (from the caller's directory) and
        // one with a space or an `&` are ordinary paths; nginx's prefix, the config's paths and bash's pattern
        // substitution (where an unquoted `&` in the replacement stands for the match) must all take them.
        var parent = Directory.CreateTempSubdirectory("roomshare-cluster-rel-").FullName;
        const string relative = "R&D cluster";
        var absolute = Path.Combine(parent, relative);
        try
        {
            var (upExit, upOutput) = await RunScriptInAsync(relative, parent, "up", "1", "--no-build", "--configuration", Configuration);
            upExit.Should().Be(0, $"eng/cluster.sh up with ROOMSHARE_CLUSTER_DIR='{relative}' must succeed:\n{upOutput}");
            var env = File.ReadAllLines(Path.Combine(absolute, "cluster.env")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            using (var ready = await http.GetAsync(new Uri(new Uri(env["BASE_URL"]), "/readyz")))
            {
                ready.StatusCode.Should().Be(HttpStatusCode.OK, "/readyz through nginx");
            }

            File.Exists(Path.Combine(absolute, "nginx", "logs", "access.log")).Should().BeTrue("nginx writes inside the state directory");
            var pids = File.ReadAllLines(Path.Combine(absolute, "procs")).Select(l => l.Split(' ')).Select(p => (Pid: int.Parse(p[1], CultureInfo.InvariantCulture), Start: p[2])).ToList();

            var (downExit, downOutput) = await RunScriptInAsync(relative, parent, "down");
            downExit.Should().Be(0, downOutput);
            Directory.Exists(absolute).Should().BeFalse("down removes the state dir");
            pids.Should().HaveCount(3, "up 1 starts redis, one replica and nginx")
                .And.AllSatisfy(p => StartTimeOf(p.Pid).Should().NotBe(p.Start, "down stops every process up started"));
        }
        finally
        {
            if (Directory.Exists(absolute))
            {
                await RunScriptInAsync(relative, parent, "down");
            }

            Directory.Delete(parent, recursive: true);
        }
    }

    /// <summary>What `down` reports after each stage, in the order it must report them.</summary>
    private static readonly string[] StopStages = ["stopped nginx", "stopped replicas", "stopped redis"];

    private static string Configuration =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name
            ?? throw new InvalidOperationException($"Cannot derive the build configuration from {AppContext.BaseDirectory}");

    private Task<(int ExitCode, string Output)> RunScriptAsync(params string[] arguments) =>
        RunScriptInAsync(stateDir, RepoPaths.RepoRoot, arguments);

    /// <summary>eng/cluster.sh with ROOMSHARE_CLUSTER_DIR as given (relative paths from the working directory).</summary>
    private static async Task<(int ExitCode, string Output)> RunScriptInAsync(string clusterDir, string workingDirectory, params string[] arguments) =>
        await ProcessRunner.RunAsync(
            Path.Combine(RepoPaths.RepoRoot, "eng", "cluster.sh"),
            arguments,
            new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["ROOMSHARE_CLUSTER_DIR"] = clusterDir,
                ["ROOMSHARE_API_KEY"] = null,
                ["ROOMSHARE_JWT_SIGNING_KEY"] = null,
            },
            TimeSpan.FromSeconds(60),
            workingDirectory);

    private Dictionary<string, string> ReadClusterEnv() =>
        File.ReadAllLines(Path.Combine(stateDir, "cluster.env"))
            .Where(line => line.Contains('=', StringComparison.Ordinal))
            .Select(line => line.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);

    private List<(string Name, int Pid, string StartTime)> RecordedProcesses() =>
        File.ReadAllLines(Path.Combine(stateDir, "procs"))
            .Select(line => line.Split(' '))
            .Select(parts => (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2]))
            .ToList();

    /// <summary>
    /// Run as root, nginx's workers are another user (nobody): a response buffered for a slow reader goes to their temp
    /// files under the state dir, which must be reachable by them — it was private (0700), so such a response was cut
    /// off. The state dir is now traversable by others; what holds a secret or the data stays private. Checked as the
    /// workers' own user (setpriv), so it holds whoever runs the test.
    /// </summary>
    private async Task NginxWorkersReachTheirTempFilesAndSecretsStayPrivateAsync(int nginxMasterPid)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the script is bash on Linux; this keeps the analyzer's platform check satisfied
        }

        var worker = Directory.GetDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ParentOf(pid) == nginxMasterPid)
            .Select(pid => (Pid: pid, Uid: IdOf(pid, "Uid:"), Gid: IdOf(pid, "Gid:")))
            .First();
        var proxyTemp = Path.Combine(stateDir, "nginx", "temp", "proxy");
        var (exit, output) = await ProcessRunner.RunAsync(
            "setpriv",
            ["--reuid", worker.Uid, "--regid", worker.Gid, "--clear-groups", "test", "-w", proxyTemp, "-a", "-x", proxyTemp],
            new Dictionary<string, string?>(StringComparer.Ordinal),
            Timeout);
        exit.Should().Be(0, $"nginx's worker (uid {worker.Uid}) can write its proxy temp files in {proxyTemp}: {output}");

        File.GetUnixFileMode(Path.Combine(stateDir, "cluster.env")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "cluster.env holds the API key");
        foreach (var secret in new[] { "logs", "redis", Path.Combine("nginx", "logs") })
        {
            File.GetUnixFileMode(Path.Combine(stateDir, secret)).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, $"{secret}/ stays private");
        }

        File.GetUnixFileMode(stateDir).HasFlag(UnixFileMode.OtherRead).Should().BeFalse("others may pass through the state dir, not list it");
    }

    private static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The real id on the <paramref name="field"/> line (Uid: or Gid:) of /proc/&lt;pid&gt;/status.</summary>
    private static string IdOf(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];

    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat, or null when the pid is gone.</summary>
    private static string? StartTimeOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private string Logs()
    {
        var logs = Path.Combine(stateDir, "logs");
        if (!Directory.Exists(logs))
        {
            return "(no logs)";
        }

        return string.Join('\n', Directory.GetFiles(logs).Select(f => $"--- {Path.GetFileName(f)} ---\n{File.ReadAllText(f)}"));
    }

    private async Task<(string RoomId, string Token)> CreateRoomAndTokenAsync(Uri baseUrl, string apiKey)
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/api/rooms"))
        {
            Content = JsonContent.Create(new { name = "Cluster test", menu = new[] { new { id = "pizza", name = "Pizza", priceMinor = 1200 } } }),
        };
        create.Headers.Add("X-Api-Key", apiKey);
        using var created = await http.SendAsync(create);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var roomId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("roomId").GetString()!;

        using var mint = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, $"/api/rooms/{roomId}/tokens"))
        {
            Content = JsonContent.Create(new { memberId = "m1", displayName = "Ada", role = "member" }),
        };
        mint.Headers.Add("X-Api-Key", apiKey);
        using var minted = await http.SendAsync(mint);
        minted.StatusCode.Should().Be(HttpStatusCode.OK, await minted.Content.ReadAsStringAsync());
        var token = (await minted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        return (roomId, token);
    }

    /// <summary>POST negotiate through nginx; returns the affinity cookie (new or the one sent) and the upstream port.</summary>
    private async Task<(string Cookie, string UpstreamPort)> NegotiateAsync(Uri baseUrl, string token, string? cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/hubs/room/negotiate?negotiateVersion=1"));
        request.Headers.Authorization = new("Bearer", token);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        using var response = await http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        if (cookie is null)
        {
            cookie = response.Headers.GetValues("Set-Cookie").Should().ContainSingle().Subject.Split(';')[0];
        }
        else
        {
            response.Headers.Contains("Set-Cookie").Should().BeFalse("the cookie is set only when the request had none");
        }

        return (cookie, UpstreamPort(response.Headers.GetValues("X-Upstream").Single()));
    }

    /// <summary>
    /// Connects a SignalR JSON WebSocket through nginx (skipNegotiation style), calls Join and returns the
    /// upstream port nginx reported on the 101 response and the <c>replica</c> field of the JoinResult.
    /// </summary>
    private static async Task<(string UpstreamPort, string Replica)> JoinOverWebSocketAsync(Uri baseUrl, string roomId, string token, string? cookie)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (cookie is not null)
        {
            socket.Options.SetRequestHeader("Cookie", cookie);
        }

        var url = new Uri($"ws://{baseUrl.Authority}/hubs/room?access_token={Uri.EscapeDataString(token)}");
        await socket.ConnectAsync(url, timeout.Token);
        var upstream = socket.HttpResponseHeaders?.TryGetValue("X-Upstream", out var values) == true ? values.Single() : null;
        upstream.Should().NotBeNull("the loopback nginx names the upstream on every response, 101 included");

        var pending = new Queue<string>();
        await SendAsync(socket, """{"protocol":"json","version":1}""", timeout.Token);
        var handshake = await ReceiveMessageAsync(socket, pending, timeout.Token);
        handshake.Should().Be("{}", "the SignalR handshake must succeed");

        var join = JsonSerializer.Serialize(new { type = 1, invocationId = "1", target = "Join", arguments = new object?[] { roomId, null } });
        await SendAsync(socket, join, timeout.Token);

        // Bounded by the timeout: skip pings, events and presence until the Join completion arrives.
        while (true)
        {
            using var message = JsonDocument.Parse(await ReceiveMessageAsync(socket, pending, timeout.Token));
            var root = message.RootElement;
            if (root.GetProperty("type").GetInt32() == 3 && root.GetProperty("invocationId").GetString() == "1")
            {
                root.TryGetProperty("error", out var error).Should().BeFalse($"Join failed: {error}");
                var replica = root.GetProperty("result").GetProperty("replica").GetString()!;
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
                return (UpstreamPort(upstream!), replica);
            }
        }
    }

    private static string UpstreamPort(string upstreamAddr) => upstreamAddr.Split(',')[^1].Trim().Split(':')[^1];

    private static Task SendAsync(ClientWebSocket socket, string json, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, true, cancellationToken);

    /// <summary>Reads SignalR JSON messages (each ends with the record separator; a frame may hold several).</summary>
    private static async Task<string> ReceiveMessageAsync(ClientWebSocket socket, Queue<string> pending, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        using var text = new MemoryStream();
        // Bounded by the caller's timeout.
        while (pending.Count == 0)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"The server closed the WebSocket: {socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            text.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                var all = Encoding.UTF8.GetString(text.ToArray());
                var end = all.LastIndexOf(RecordSeparator);
                foreach (var message in all[..Math.Max(end, 0)].Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries))
                {
                    pending.Enqueue(message);
                }

                text.SetLength(0);
                text.Write(Encoding.UTF8.GetBytes(all[(end + 1)..]));
            }
        }

        return pending.Dequeue();
    }
}
