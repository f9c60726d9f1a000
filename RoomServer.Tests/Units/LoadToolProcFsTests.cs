extern alias loadtool;

using System.Diagnostics;
using loadtool::RoomShare.LoadTest.Measure;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's CPU reading of a process with a forked child (Redis's AOF rewrite): the child's time counts while
/// it runs, and when it is reaped it moves into the parent's own figure, so the sum does not jump at the reap.
/// </summary>
public sealed class LoadToolProcFsTests
{
    [Fact]
    public async Task AForkedChildsCpuCountsWhileItRunsAndStaysCountedOnceItIsReaped()
    {
        // A shell forks a busy child, lets it run, stops and reaps it, then idles until it is killed.
        using var shell = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "(while :; do :; done) & child=$!; sleep 1.5; kill $child; wait $child; sleep 30"]))!;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var ownWhileRunning = ProcFs.CpuSeconds(shell.Id)!.Value;
            var childWhileRunning = ProcFs.LiveChildrenCpuSeconds(shell.Id);
            childWhileRunning.Should().BeGreaterThan(0.05, "the busy child has run for about a second");
            ownWhileRunning.Should().BeLessThan(0.05, "the shell itself only waits, and its child is not reaped yet");

            await Poll.UntilAsync(() => Task.FromResult(ProcFs.LiveChildrenCpuSeconds(shell.Id) == 0 && ProcFs.CpuSeconds(shell.Id) > 0.05),
                TimeSpan.FromSeconds(10), "the child is reaped and its time is the shell's");
            var ownAfterReap = ProcFs.CpuSeconds(shell.Id)!.Value;
            ownAfterReap.Should().BeGreaterThanOrEqualTo(ownWhileRunning + childWhileRunning - 0.02, "the sum does not drop at the reap");
        }
        finally
        {
            shell.Kill(entireProcessTree: true);
            await shell.WaitForExitAsync();
        }
    }

    [Fact]
    public void AProcessThatIsGoneHasNoLiveChildren() => ProcFs.LiveChildrenCpuSeconds(int.MaxValue).Should().Be(0);
}
