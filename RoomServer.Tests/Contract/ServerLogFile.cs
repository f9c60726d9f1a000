using Microsoft.Extensions.Logging;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// An in-process server's log in a file of its own, when <c>ROOMSHARE_TEST_LOG_DIR</c> names a folder: for a failure
/// that shows only in a whole run, where every server of the test process writes to one console nobody keeps.
/// Information and up, and SignalR's Debug (its subscriptions and connection errors); the console keeps its own levels.
/// </summary>
internal sealed class ServerLogFile(string path) : ILoggerProvider
{
    private readonly Lock _gate = new();

    public static string? Folder => Environment.GetEnvironmentVariable("ROOMSHARE_TEST_LOG_DIR") is { Length: > 0 } dir ? dir : null;

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        lock (_gate)
        {
            File.AppendAllText(path, line + "\n");
        }
    }

    private sealed class FileLogger(ServerLogFile file, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information || category.Contains("SignalR", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            file.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}[{eventId.Id}]: {formatter(state, exception)} {exception}");
    }
}
