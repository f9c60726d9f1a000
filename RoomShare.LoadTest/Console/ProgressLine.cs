using Spectre.Console;

namespace RoomShare.LoadTest.Console;

/// <summary>
/// The live progress line (a Spectre.Console status line, refreshed 4× a second from whatever the current
/// phase reports) and the log lines printed above it. Without a terminal (CI, a test's child process)
/// there is no live line; the log lines still print.
/// </summary>
public sealed class ProgressLine
{
    private Func<string> _status = () => "starting";

    /// <summary>Sets what the live line shows from now on (evaluated at every refresh).</summary>
    public void Show(Func<string> status) => _status = status;

    public void Show(string status) => _status = () => status;

    public static void Log(string line) =>
        AnsiConsole.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(line)}");

    public static void Warn(string line) =>
        AnsiConsole.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] [yellow]{Markup.Escape(line)}[/]");

    public async Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await work();
        }

        return await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync("starting", async context =>
        {
            var task = work();
            while (!task.IsCompleted)
            {
                context.Status(Markup.Escape(_status()));
                await Task.WhenAny(task, Task.Delay(250));
            }

            return await task;
        });
    }
}
