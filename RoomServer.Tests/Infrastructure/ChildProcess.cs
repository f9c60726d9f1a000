using System.Diagnostics;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// One child process with its output captured (for failure messages), a graceful stop (SIGTERM,
/// bounded wait, then SIGKILL) and a hard kill. The building block of the redis, replica and
/// nginx fixtures, so each of those only says what to start and how to tell it is ready.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process, string name, OutputLog output)
    {
        _process = process;
        Name = name;
        Output = output;
    }

    /// <summary>A short label for messages, e.g. "redis-server :6379".</summary>
    public string Name { get; }

    public OutputLog Output { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>
    /// Starts <paramref name="fileName"/>; <paramref name="environment"/> values are set, and a null value
    /// removes an inherited variable. Stderr goes to <paramref name="errorOutput"/> when given, else into <paramref name="output"/>.
    /// </summary>
    public static ChildProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        string name,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        OutputLog? output = null,
        OutputLog? errorOutput = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // never let a child read the test host's stdin
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        output ??= new OutputLog();
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => output.Append(e.Data);
        var stderr = errorOutput ?? output;
        process.ErrorDataReceived += (_, e) => stderr.Append(e.Data);
        if (!process.Start())
        {
            process.Dispose();
            throw new InvalidOperationException($"{name}: could not start {fileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(process, name, output);
    }

    /// <summary>Waits for the process to exit; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return _process.HasExited;
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="timeout"/>. Returns whether it exited gracefully.</summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return true;
        }

        PosixSignal.Terminate(_process.Id);
        if (await WaitForExitAsync(timeout))
        {
            return true;
        }

        Kill();
        await WaitForExitAsync(TimeSpan.FromSeconds(5));
        return false;
    }

    /// <summary>SIGKILL to the process and its children: a crash, as far as everyone else can tell.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>"name (pid N, exit code X)" plus the captured output, for exception messages.</summary>
    public string Describe()
    {
        var state = _process.HasExited ? $"exited with code {_process.ExitCode}" : "running";
        return $"{Name} (pid {_process.Id}, {state}); output:\n{Output}";
    }
}
