using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Runs a Node driver from <c>tests/js</c> (the official @microsoft/signalr client, Playwright), so
/// "a real client can do it" is proven by the real client, not by our own .NET one.
/// </summary>
public static class NodeScript
{
    public static async Task<NodeResult> RunAsync(string scriptRelativeToJsTests, IReadOnlyDictionary<string, string> env, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(env);
        var node = RequiredTool.Resolve("node");
        var jsDir = RepoPaths.JsTestsDir;
        if (!Directory.Exists(Path.Combine(jsDir, "node_modules")))
        {
            throw new InvalidOperationException($"{jsDir}/node_modules is missing: run `npm ci` in tests/js (./eng/test.sh does it)");
        }

        var script = Path.Combine(jsDir, scriptRelativeToJsTests);
        if (!File.Exists(script))
        {
            throw new FileNotFoundException($"Node script not found: {script}", script);
        }

        var stdout = new OutputLog();
        var stderr = new OutputLog();
        var environment = env.ToDictionary(pair => pair.Key, pair => (string?)pair.Value, StringComparer.Ordinal);
        using var process = ChildProcess.Start(node, [script], $"node {scriptRelativeToJsTests}", jsDir, environment, stdout, stderr);
        if (!await process.WaitForExitAsync(timeout))
        {
            process.Kill(); // the whole tree: a driver may have started a browser
            await process.WaitForExitAsync(TimeSpan.FromSeconds(5));
            throw new TimeoutException(
                $"node {scriptRelativeToJsTests} did not exit within {timeout.TotalSeconds:0.#}s; its process tree was killed. stdout:\n{stdout}\nstderr:\n{stderr}");
        }

        var output = stdout.ToString();
        return new NodeResult(process.ExitCode ?? -1, output, stderr.ToString(), FindLastJsonLine(output));
    }

    private static JsonElement? FindLastJsonLine(string stdout)
    {
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Reverse())
        {
            if (!line.StartsWith('{') && !line.StartsWith('['))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                // A log line that merely starts with a brace; keep looking.
            }
        }

        return null;
    }
}
