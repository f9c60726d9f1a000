extern alias loadtool;

using loadtool::RoomShare.LoadTest.Results;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The machine line's transparent-huge-page mode: read from the kernel's sysfs file, the bracketed choice; a box
/// without the file (or one the tool cannot read) is reported without it rather than failing the run.
/// </summary>
public sealed class LoadToolHugePagesTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "roomshare-thp-" + Guid.NewGuid().ToString("N"));

    public LoadToolHugePagesTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("always [madvise] never\n", "madvise")]
    [InlineData("[always] madvise never\n", "always")]
    [InlineData("always madvise [never]\n", "never")]
    public void TheSelectedModeIsTheBracketedWord(string enabled, string mode)
    {
        var path = Path.Combine(_directory, "enabled");
        File.WriteAllText(path, enabled);

        TransparentHugePages.Mode(path).Should().Be(mode);
    }

    [Theory]
    [InlineData("always madvise never\n")]
    [InlineData("always [] never\n")]
    [InlineData("always [madvise never\n")]
    [InlineData("")]
    public void AFileWithNoSelectedModeGivesNone(string enabled)
    {
        var path = Path.Combine(_directory, "enabled");
        File.WriteAllText(path, enabled);

        TransparentHugePages.Mode(path).Should().BeNull();
    }

    [Fact]
    public void AKernelWithoutTheFileGivesNone() =>
        TransparentHugePages.Mode(Path.Combine(_directory, "absent")).Should().BeNull();
}
