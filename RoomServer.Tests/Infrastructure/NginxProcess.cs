using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A real nginx in front of loopback replicas, configured exactly like production: the config is
/// <c>nginx/loopback.conf.template</c> (shared with <c>eng/cluster.sh</c>), which includes the
/// repo's <c>nginx/roomshare-http.conf</c> and <c>nginx/roomshare-locations.conf</c> by absolute
/// path. Everything nginx writes (pid, logs, temp files) stays in a temp prefix directory that
/// <see cref="DisposeAsync"/> deletes. Responses carry <c>X-Upstream</c> (the replica that answered).
/// </summary>
public sealed class NginxProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly Process process;
    private readonly string nginxPath;
    private readonly StringBuilder output;
    private int disposed;

    private NginxProcess(Process process, string nginxPath, string prefix, int port, StringBuilder output)
    {
        this.process = process;
        this.nginxPath = nginxPath;
        this.output = output;
        PrefixDirectory = prefix;
        Port = port;
        BaseUrl = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;/</c>.</summary>
    public Uri BaseUrl { get; }

    public int Port { get; }

    /// <summary>The temp prefix holding <c>nginx.conf</c>, <c>logs/</c> and <c>temp/</c>.</summary>
    public string PrefixDirectory { get; }

    public string ConfigPath => Path.Combine(PrefixDirectory, "nginx.conf");

    /// <summary>Access log in the <c>roomshare</c> format: includes <c>upstream=&lt;replica&gt;</c>, never query strings.</summary>
    public string AccessLogPath => Path.Combine(PrefixDirectory, "logs", "access.log");

    public string ErrorLogPath => Path.Combine(PrefixDirectory, "logs", "error.log");

    /// <summary>
    /// Starts nginx on a free 127.0.0.1 port proxying to <paramref name="replicaBaseUrls"/> (hash on the
    /// <c>rs_affinity</c> cookie, <c>max_fails=1 fail_timeout=2s</c>), and returns once it accepts connections.
    /// </summary>
    public static async Task<NginxProcess> StartAsync(IReadOnlyList<Uri> replicaBaseUrls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(replicaBaseUrls);
        var nginxPath = RequiredTool.Resolve("nginx");

        // FreePort has a window between picking and binding; a lost race is retried on a new port.
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var prefix = Directory.CreateTempSubdirectory("roomshare-nginx-").FullName;

            // CreateTempSubdirectory makes it 0700; run as root, nginx's workers (nobody) could not
            // write their temp files there, and bodies over 16 KB would get a 500.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(prefix, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
            var port = FreePort.Next();
            try
            {
                Directory.CreateDirectory(Path.Combine(prefix, "logs"));
                Directory.CreateDirectory(Path.Combine(prefix, "temp"));
                var configPath = Path.Combine(prefix, "nginx.conf");
                await File.WriteAllTextAsync(configPath, RenderConfig(prefix, port, replicaBaseUrls), cancellationToken);

                var output = new StringBuilder();
                var process = StartNginx(nginxPath, prefix, configPath, output);
                var nginx = new NginxProcess(process, nginxPath, prefix, port, output);
                try
                {
                    await nginx.WaitUntilListeningAsync(cancellationToken);
                    return nginx;
                }
                catch (Exception ex) when (attempt < attempts && ex is not OperationCanceledException
                    && nginx.Diagnostics().Contains("Address already in use", StringComparison.Ordinal))
                {
                    await nginx.DisposeAsync();
                }
                catch
                {
                    await nginx.DisposeAsync();
                    throw;
                }
            }
            catch
            {
                TryDeleteDirectory(prefix);
                throw;
            }
        }
    }

    /// <summary>
    /// Points nginx at a new set of replicas: validates the new config with <c>nginx -t</c>, sends
    /// SIGHUP and returns once the old worker has exited, so every later request uses the new config.
    /// </summary>
    public async Task ReloadAsync(IReadOnlyList<Uri> replicaBaseUrls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(replicaBaseUrls);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);

        await File.WriteAllTextAsync(ConfigPath, RenderConfig(PrefixDirectory, Port, replicaBaseUrls), cancellationToken);
        var (testExit, testOutput) = await RunAsync(nginxPath, ["-t", "-q", "-p", PrefixDirectory, "-e", ErrorLogPath, "-c", ConfigPath], cancellationToken);
        if (testExit != 0)
        {
            throw new InvalidOperationException($"nginx rejected the reloaded config {ConfigPath}:\n{testOutput}");
        }

        // Read from the process table, not the error log: the log is at crit (it would quote the hub's
        // request lines, tokens and all), so nginx's "reconfiguring" and workers' exits are not in it.
        var oldWorkers = Workers();
        await SignalAsync("HUP", cancellationToken);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        try
        {
            // Bounded by the timeout. The master reads the new config, starts a worker with it, then
            // stops the old ones (worker_shutdown_timeout bounds that).
            while (Workers() is var workers && (workers.Overlaps(oldWorkers) || workers.Count == 0))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"nginx did not reload (a new worker, the old ones exited) within {StartTimeout.TotalSeconds:0} s after SIGHUP.\n{Diagnostics()}");
        }
    }

    /// <summary>Stops nginx (SIGQUIT, then kill after 5 s) and deletes the prefix directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                try
                {
                    await SignalAsync("QUIT", CancellationToken.None);
                }
                catch (InvalidOperationException)
                {
                    // The process may have exited between the check and the signal; the kill below covers the rest.
                }

                using var timeout = new CancellationTokenSource(StopTimeout);
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    // Workers are children of the master: kill the tree so none is orphaned.
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        finally
        {
            process.Dispose();
            TryDeleteDirectory(PrefixDirectory);
        }
    }

    /// <summary>The nginx error log and console output, for failure messages.</summary>
    public string Diagnostics()
    {
        string log;
        try
        {
            log = File.Exists(ErrorLogPath) ? File.ReadAllText(ErrorLogPath) : "(no error log)";
        }
        catch (IOException ex)
        {
            log = $"(error log unreadable: {ex.Message})";
        }

        lock (output)
        {
            return $"--- nginx error log ({ErrorLogPath}) ---\n{log}\n--- nginx console ---\n{output}";
        }
    }

    /// <summary>Renders <c>nginx/loopback.conf.template</c>: the same rules as production, on loopback.</summary>
    internal static string RenderConfig(string prefix, int port, IReadOnlyList<Uri> replicaBaseUrls)
    {
        if (replicaBaseUrls.Count == 0)
        {
            throw new ArgumentException("At least one replica is required.", nameof(replicaBaseUrls));
        }

        var servers = new StringBuilder();
        var heldServers = new StringBuilder();
        foreach (var url in replicaBaseUrls)
        {
            if (url.Scheme != Uri.UriSchemeHttp)
            {
                throw new ArgumentException($"Replica URL must be http://host:port, got {url}", nameof(replicaBaseUrls));
            }

            servers.Append(CultureInfo.InvariantCulture, $"        server {url.Host}:{url.Port} max_fails=1 fail_timeout=2s;\n");
            heldServers.Append(CultureInfo.InvariantCulture, $"        server {url.Host}:{url.Port} max_fails=0;\n");
        }

        var nginxDir = Path.Combine(RepoPaths.RepoRoot, "nginx");
        var template = File.ReadAllText(Path.Combine(nginxDir, "loopback.conf.template"));
        return template
            .Replace("@PREFIX@", prefix, StringComparison.Ordinal)
            .Replace("@NGINX_DIR@", nginxDir, StringComparison.Ordinal)
            .Replace("@PORT@", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("@SERVERS@\n", servers.ToString(), StringComparison.Ordinal)
            .Replace("@HELD_SERVERS@\n", heldServers.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Runs a short command to completion and returns its exit code and combined output.</summary>
    internal static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', startInfo.ArgumentList)} did not finish within 30 s");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static Process StartNginx(string nginxPath, string prefix, string configPath, StringBuilder output)
    {
        // -e: the compiled-in error log (/var/log/nginx) is opened before the config is read.
        var startInfo = new ProcessStartInfo(nginxPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-p", prefix, "-e", Path.Combine(prefix, "logs", "error.log"), "-c", configPath })
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        if (!process.Start())
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {nginxPath}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        try
        {
            // Bounded by the timeout; exits early if nginx dies (bad config, port taken).
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException(
                        $"nginx exited with code {process.ExitCode} before accepting connections on 127.0.0.1:{Port}.\n{Diagnostics()}");
                }

                using var client = new TcpClient();
                try
                {
                    await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
                    // Ours, not a server that took the port first (nginx retries a failed bind for a while before it exits).
                    if (ListeningSockets.HeldBy(process.Id, Port))
                    {
                        return;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
                }
                catch (SocketException)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"nginx did not accept connections on 127.0.0.1:{Port} within {StartTimeout.TotalSeconds:0} s.\n{Diagnostics()}");
        }
    }

    private async Task SignalAsync(string signal, CancellationToken cancellationToken)
    {
        // No managed API sends SIGQUIT/SIGHUP; kill(1) does, without P/Invoke.
        var (exitCode, text) = await RunAsync("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)], cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {process.Id} failed: {text}");
        }
    }

    /// <summary>The master's child processes (its workers), from <c>/proc</c>.</summary>
    private HashSet<int> Workers()
    {
        var workers = new HashSet<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue; // exited meanwhile
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 2 && fields[0] != "Z" && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent) && parent == process.Id)
            {
                workers.Add(pid);
            }
        }

        return workers;
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless; a throw here would hide the test's own failure.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
