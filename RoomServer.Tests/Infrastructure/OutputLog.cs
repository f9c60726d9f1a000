using System.Text;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// The tail of a child process's stdout+stderr, kept for failure messages. Bounded so a chatty
/// replica in a long test cannot eat the test host's memory; the head is dropped first.
/// </summary>
public sealed class OutputLog
{
    private readonly StringBuilder _text = new();
    private readonly int _maxChars;
    private readonly Lock _gate = new();
    private bool _truncated;

    /// <summary>The marker that starts the text once its head was dropped.</summary>
    public const string DroppedMarker = "[...earlier output dropped...]";

    public OutputLog(int maxChars = 1024 * 1024) => _maxChars = maxChars;

    public void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _text.Append(line).Append('\n');
            if (_text.Length > _maxChars)
            {
                _text.Remove(0, _text.Length - _maxChars);
                _truncated = true;
            }
        }
    }

    public override string ToString()
    {
        lock (_gate)
        {
            return _truncated ? DroppedMarker + "\n" + _text : _text.ToString();
        }
    }
}
