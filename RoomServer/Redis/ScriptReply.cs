using System.Globalization;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// One script's reply (Scripts/prelude.lua): an array whose first element is a status — 'ok',
/// 'snapshot', 'missed', 'exists' — or a §5 error code. The readers of each reply shape
/// (<see cref="VersionReply"/>, <see cref="ChoiceReply"/>, <see cref="PositionReply"/>,
/// <see cref="MissedReply"/>, <see cref="SnapshotReply"/>) name the positions after it, so no
/// caller indexes the array.
/// </summary>
internal readonly struct ScriptReply(RedisResult[] items)
{
    private const int StatusAt = 0;

    /// <summary>An error reply's detail: state.lua's current state, remove.lua's reason.</summary>
    private const int DetailAt = 1;

    public string Status => Text(StatusAt);

    public string Detail => Text(DetailAt);

    public int Length => items.Length;

    public string Text(int at) => (string)items[at]!;

    /// <summary>Scripts send numbers as decimal strings (prelude's int()), or as stored in a hash.</summary>
    public long Number(int at) => long.Parse((string)items[at]!, CultureInfo.InvariantCulture);

    /// <summary>The elements from <paramref name="at"/> to the end, each a string (a reply of variable length).</summary>
    public IEnumerable<string> TextsFrom(int at) => items.Skip(at).Select(i => (string)i!);

    public IEnumerable<string> Texts(int at) => ((RedisValue[])items[at]!).Select(v => (string)v!);

    /// <summary>A flat HGETALL reply (field, value, field, value...) as pairs.</summary>
    public IEnumerable<KeyValuePair<string, string>> Pairs(int at)
    {
        var flat = (RedisValue[])items[at]!;
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            yield return new KeyValuePair<string, string>((string)flat[i]!, (string)flat[i + 1]!);
        }
    }
}
