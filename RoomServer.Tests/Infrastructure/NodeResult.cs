using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>What a Node driver script did. Drivers print one final JSON line; <see cref="LastJsonLine"/> is it.</summary>
public sealed record NodeResult(int ExitCode, string Stdout, string Stderr, JsonElement? LastJsonLine)
{
    /// <summary>For assertion messages: exit code, the JSON line, and stderr.</summary>
    public override string ToString() =>
        $"node exited {ExitCode}; last JSON line: {LastJsonLine?.GetRawText() ?? "(none)"}; stdout:\n{Stdout}\nstderr:\n{Stderr}";
}
