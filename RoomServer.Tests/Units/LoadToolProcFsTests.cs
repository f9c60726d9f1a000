extern alias loadtool;

using System.Diagnostics;
using System.Globalization;
using loadtool::RoomShare.LoadTest.Measure;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's CPU reading of a process with a forked child (Redis's AOF rewrite): the child's time counts while
/// it runs, and when it is reaped it moves into the parent's own figure, so the sum does not drop at the reap.
/// </summary>
public sealed class LoadToolProcFsTests
{
    [Fact]
    public async Task AForkedChildsCpuCountsWhileItRunsAndStaysCountedOnceItIsReaped()
    {
        // A shell forks a busy child and names it, stops and reaps it when told (a line on its input), then idles.
        var start = new ProcessStartInfo("/bin/sh", ["-c", "(while :; do :; done) & echo $!; read line; kill $!; wait $!; sleep 30"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var shell = Process.Start(start)!;
        try
        {
            var child = int.Parse((await shell.StandardOutput.ReadLineAsync())!, CultureInfo.InvariantCulture);
            await Poll.UntilAsync(() => Task.FromResult(ProcFs.CpuSecondsWithChildren(shell.Id) > 0.05), TimeSpan.FromSeconds(20),
                "the busy child's time counts while it runs");
            var whileRunning = ProcFs.CpuSecondsWithChildren(shell.Id)!.Value;
            ProcFs.CpuSeconds(shell.Id).Should().BeLessThan(0.05, "the shell itself only waits, and its child is not reaped yet");

            await shell.StandardInput.WriteLineAsync("stop");
            await shell.StandardInput.FlushAsync();
            await Poll.UntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{child}")), TimeSpan.FromSeconds(20), "the child is stopped and reaped");

            ProcFs.CpuSeconds(shell.Id).Should().BeGreaterThanOrEqualTo(whileRunning - 0.02, "the child's time is the shell's own now");
            ProcFs.CpuSecondsWithChildren(shell.Id).Should().BeGreaterThanOrEqualTo(whileRunning - 0.02, "the sum does not drop at the reap");
        }
        finally
        {
            shell.Kill(entireProcessTree: true);
            await shell.WaitForExitAsync();
        }
    }

    [Fact]
    public void AProcessThatIsGoneHasNoFigure() => ProcFs.CpuSecondsWithChildren(int.MaxValue).Should().BeNull();
}
