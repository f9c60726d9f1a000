using System.Text.Json;
using System.Threading.Channels;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// What the server invoked on one client target (RoomEvent, Position, Presence...): an unbounded
/// channel to await the next one, and the full ordered history for "what arrived so far" assertions
/// and timeout messages.
/// </summary>
internal sealed class HubInbox
{
    private readonly Channel<JsonElement> _channel = Channel.CreateUnbounded<JsonElement>(
        new UnboundedChannelOptions { SingleWriter = true, SingleReader = false });

    private readonly List<JsonElement> _received = [];
    private readonly Lock _gate = new();

    public ChannelReader<JsonElement> Reader => _channel.Reader;

    public void Add(JsonElement value)
    {
        lock (_gate)
        {
            _received.Add(value);
        }

        _channel.Writer.TryWrite(value);
    }

    /// <summary>No more values will come (the connection closed); buffered ones stay readable.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    public IReadOnlyList<JsonElement> Received()
    {
        lock (_gate)
        {
            return _received.ToArray();
        }
    }

    /// <summary>"N received; last: [...]" for failure messages (the last few, raw JSON).</summary>
    public string Describe(int last = 5)
    {
        var all = Received();
        var tail = all.Skip(Math.Max(0, all.Count - last)).Select(e => e.GetRawText());
        return $"{all.Count} received{(all.Count > 0 ? "; last: " + string.Join(", ", tail) : string.Empty)}";
    }
}
