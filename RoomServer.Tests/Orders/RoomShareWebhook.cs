using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The sample receiver code the README quotes: how a restaurant system checks a RoomShare webhook
/// before it trusts the order. Self-contained on purpose (a receiver does not have RoomServer); the
/// delivery tests verify every request they receive with it, and a forged one must fail.
/// </summary>
public static class RoomShareWebhook
{
    /// <summary>
    /// True when <paramref name="signature"/> (the <c>RoomShare-Signature</c> header) is
    /// <c>v1=</c> + hex HMAC-SHA256(secret, timestamp + "." + body) and the timestamp is recent.
    /// </summary>
    public static bool Verify(string secret, string body, string? timestamp, string? signature, DateTimeOffset now, TimeSpan tolerance)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds // numbers: a forged one past the calendar must not throw
            || signature is null || !signature.StartsWith("v1=", StringComparison.Ordinal))
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body));
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature.AsSpan(3));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given); // constant time: no timing oracle
    }
}
