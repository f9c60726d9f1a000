using System.Runtime.InteropServices;
using RoomShare.LoadTest;
using RoomShare.LoadTest.Console;
using Spectre.Console;

// RoomShare.LoadTest: the load tool and benchmark of issue #9. See README.md beside this file.

// Socket completions run on the epoll threads instead of hopping to the thread pool: the receive
// handlers are short, and this cut the generator's CPU per received event from ~80 to ~40–50 µs on the
// 2-core box: CPU the servers under test get back. Read once, when the first socket is made: set it first.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

using var stop = new CancellationTokenSource();
// Ctrl+C and SIGTERM cancel the run; the tool then brings its clusters down itself before exiting.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

if (!AnsiConsole.Profile.Capabilities.Interactive)
{
    AnsiConsole.Profile.Width = 200; // a log file or a test's pipe: do not squeeze the tables to 80 columns
}

var command = LoadTestCommand.Create();
// No termination timeout: System.CommandLine would otherwise exit 2 s after a signal, mid-teardown.
return await command.Parse(args).InvokeAsync(new() { ProcessTerminationTimeout = null }, stop.Token);

void Stop(PosixSignalContext signal)
{
    signal.Cancel = true;
    ProgressLine.Warn($"{signal.Signal}: stopping and tearing down");
    stop.Cancel();
}
