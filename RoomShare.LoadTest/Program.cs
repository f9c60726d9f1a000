using System.Runtime.InteropServices;
using RoomShare.LoadTest;
using RoomShare.LoadTest.Console;
using Spectre.Console;

// RoomShare.LoadTest: the load tool and benchmark of issue #9. See README.md beside this file.
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
