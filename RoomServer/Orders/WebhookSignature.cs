using System.Security.Cryptography;
using System.Text;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// DESIGN.md §8: <c>RoomShare-Signature: v1=HEX</c>, HEX = lowercase hex HMAC-SHA256(secret, TIMESTAMP + "." + BODY),
/// the secret's and the text's UTF-8 bytes.
/// </summary>
public static class WebhookSignature
{
    public const string OrderIdHeader = "RoomShare-Order-Id";
    public const string TimestampHeader = "RoomShare-Timestamp";
    public const string SignatureHeader = "RoomShare-Signature";

    public static string Sign(string secret, string timestamp, string body) =>
        "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body)));
}
