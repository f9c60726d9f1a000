using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// One Lua script, loaded once per server: calls send its SHA1 (EVALSHA), not its text. A server
/// that does not know it (first call, or after a restart emptied its script cache) answers NOSCRIPT,
/// and the call is sent once more with the text, which loads it (StackExchange.Redis's string
/// overload does SCRIPT LOAD + EVALSHA itself). We keep the hash ourselves rather than use that
/// overload on every call: it looks the script up by its whole text, hashing kilobytes per call.
/// </summary>
public sealed class RedisScript(string name, string text)
{
    // Redis names a cached script by its SHA1 (EVALSHA): an identifier the protocol fixes, not security.
#pragma warning disable CA5350
    private readonly byte[] _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350

    public string Name { get; } = name;

    public string Text { get; } = text;

    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await database.ScriptEvaluateAsync(_sha1, keys, args);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await database.ScriptEvaluateAsync(Text, keys, args);
        }
    }
}
