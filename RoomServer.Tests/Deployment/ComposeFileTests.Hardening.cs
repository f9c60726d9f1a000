using System.Text.RegularExpressions;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// The replica container is hardened (non-root, read-only root filesystem, no capabilities), and no
/// secret is baked into the image or written in the compose file: both come from the environment
/// (.env, never committed).
/// </summary>
public sealed partial class ComposeFileTests
{
    [Fact]
    public async Task RoomServerRunsAsNonRootOnAReadOnlyRootFilesystemWithoutCapabilities()
    {
        var roomserver = Services(await ResolvedConfigAsync())["roomserver"];

        roomserver.Should().MatchRegex(@"(?m)^\s+user: ['""]?1654:1654['""]?\s*$", "the aspnet image's non-root app user")
            .And.MatchRegex(@"(?m)^\s+read_only: true\s*$")
            .And.MatchRegex(@"(?m)^\s+- /tmp(:\S*)?\s*$", ".NET needs a writable /tmp (diagnostics IPC, temp files)")
            .And.MatchRegex(@"cap_drop:\s+- ALL")
            .And.Contain("no-new-privileges:true");
    }

    [Fact]
    public async Task TheComposeFileTakesEverySecretFromTheEnvironmentWithNoDefault()
    {
        var compose = await File.ReadAllTextAsync(Path.Combine(RepoPaths.RepoRoot, "docker-compose.yml"));
        var secretLines = compose.Split('\n').Where(l => SecretSetting().IsMatch(l) && !l.TrimStart().StartsWith('#')).ToList();

        secretLines.Should().NotBeEmpty("the replica needs an API key and a signing key");
        secretLines.Should().AllSatisfy(line => line.Should().MatchRegex(@":\s*\$\{[A-Z0-9_]+:\?[^}]*\}\s*$",
            "a secret is `${VAR:?message}`: from .env, and compose refuses to start without it (no default)"));
    }

    [Fact]
    public async Task TheImageAndTheRepositoryCarryNoSecrets()
    {
        var root = RepoPaths.RepoRoot;
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(root, "RoomServer", "Dockerfile"));
        var envExample = await File.ReadAllLinesAsync(Path.Combine(root, ".env.example"));

        dockerfile.Split('\n').Where(l => Regex.IsMatch(l, @"^\s*(ENV|ARG)\b")).Should()
            .NotContain(l => SecretSetting().IsMatch(l) || Regex.IsMatch(l, "(?i)(secret|password|token|key)\\s*="), "no secret is baked into an image layer");
        envExample.Where(l => !l.StartsWith('#') && Regex.IsMatch(l, "(?i)(KEY|SECRET)=")).Should()
            .Contain(l => l.StartsWith("ROOMSHARE_API_KEY=", StringComparison.Ordinal), ".env.example names the secrets compose reads")
            .And.Contain(l => l.StartsWith("ROOMSHARE_JWT_SIGNING_KEY=", StringComparison.Ordinal))
            .And.OnlyContain(l => l.EndsWith('='), ".env.example leaves every secret blank");
        (await File.ReadAllLinesAsync(Path.Combine(root, ".gitignore"))).Should().Contain(".env", ".env holds the real secrets and is never committed");
        (await File.ReadAllLinesAsync(Path.Combine(root, ".dockerignore"))).Should().Contain(".env", "nor copied into the build context");
    }

    [GeneratedRegex(@"(?i)(ApiKeys__|SigningKey|Secret|Password)")]
    private static partial Regex SecretSetting();
}
