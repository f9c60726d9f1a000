using System.Globalization;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// "`dotnet run` needs only the .NET 10 SDK" (README): RoomServer's build builds the web client only where it can, and
/// otherwise says why and goes on. Each case runs the client targets alone (`-t:ClientAppNpmBuild`, the stamp in a
/// temporary folder so the npm build is due) with a PATH holding only a shell and stand-ins for node and npm: a node
/// without npm (Debian's `nodejs` package alone) made the build fail at `npm run build`.
/// </summary>
public sealed class ClientAppTargetsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("roomshare-clientapp-").FullName;

    [Theory]
    [InlineData(null, false, false, "Node.js is not on PATH")]
    [InlineData("v18.19.0", true, false, "the Node.js on PATH is v18.19.0, older than 20")]
    [InlineData("v20.11.1", false, false, "npm is not on PATH beside Node.js")]
    [InlineData("v20.11.1", false, true, "npm is not on PATH beside Node.js")] // a warning printed before the version
    public async Task ABuildWithoutAUsableNodeAndNpmSaysWhyAndSucceeds(string? nodeVersion, bool withNpm, bool warningFirst, string reason)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
        File.CreateSymbolicLink(Path.Combine(bin, "sh"), "/bin/sh");
        if (nodeVersion is not null)
        {
            StandIn(bin, "node", nodeVersion, warningFirst ? "(node:1) Warning: NODE_OPTIONS is set" : null);
        }

        if (withNpm)
        {
            StandIn(bin, "npm", "10.2.0");
        }

        var (exitCode, output) = await ProcessRunner.RunAsync(
            DotnetHost(),
            ["msbuild", Path.Combine(RepoPaths.RepoRoot, "RoomServer", "RoomServer.csproj"), "-t:ClientAppNpmBuild", "-nologo", "-v:m",
             $"-p:ClientAppStamp={Path.Combine(_root, "clientapp.stamp")}"],
            new Dictionary<string, string?> { ["PATH"] = bin },
            TimeSpan.FromMinutes(2));

        exitCode.Should().Be(0, $"the API and the hub work without the web client\n{output}");
        output.Should().Contain($"the web client was NOT built because {reason}");
        File.Exists(Path.Combine(_root, "clientapp.stamp")).Should().BeFalse("nothing was built");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static void StandIn(string bin, string name, string version, string? warning = null)
    {
        var path = Path.Combine(bin, name);
        var warn = warning is null ? "" : $"echo '{warning}' >&2\n";
        File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $"#!/bin/sh\n{warn}echo {version}\n"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : RequiredTool.Resolve("dotnet");
}
