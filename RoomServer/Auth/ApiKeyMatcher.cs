using System.Security.Cryptography;
using System.Text;

namespace RoomShare.RoomServer.Auth;

/// <summary>
/// Checks a presented <c>X-Api-Key</c> against the configured keys in constant time: both sides are
/// SHA-256 hashed first, so every comparison is over 32 bytes whatever the lengths (a plain byte
/// comparison returns early on a length mismatch, telling an attacker the key's length), and every
/// configured key is compared (no early exit telling which position matched).
/// </summary>
public sealed class ApiKeyMatcher
{
    private readonly byte[][] _keyHashes;

    public ApiKeyMatcher(IEnumerable<string> keys) => _keyHashes = [.. keys.Select(Hash)];

    public bool Matches(string presented)
    {
        var candidate = Hash(presented);
        var matched = false;
        foreach (var key in _keyHashes)
        {
            matched |= CryptographicOperations.FixedTimeEquals(candidate, key);
        }

        return matched;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
