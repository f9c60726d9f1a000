using System.Globalization;
using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>The README's receiver code accepts what the server signs and detects every forgery.</summary>
[Trait("Suite", "Orders")]
public sealed class RoomShareWebhookTests
{
    private const string Secret = "receiver-secret-0123456789abcdef";
    private const string Body = """{"type":"order.submitted","orderId":"r1:7","totalMinor":3400}""";
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);
    private static readonly string Timestamp = Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void TheServersSignatureVerifies() =>
        RoomShareWebhook.Verify(Secret, Body, Timestamp, WebhookSignature.Sign(Secret, Timestamp, Body), Now, Tolerance).Should().BeTrue();

    [Fact]
    public void TheSignatureIsLowercaseHexOfTheHmacOverTimestampDotBody() =>
        // Computed independently: printf '%s' '1700000000.{"orderId":"r1:7"}' | openssl dgst -sha256 -hmac key
        WebhookSignature.Sign("key", "1700000000", """{"orderId":"r1:7"}""")
            .Should().Be("v1=6da3ba7160bcd6344971ec1837ae5062a8f8055585061c182d55dc2023c4ef5f");

    [Fact]
    public void AForgedSignatureATamperedBodyAnotherSecretOrAStaleTimestampAreRejected()
    {
        var signature = WebhookSignature.Sign(Secret, Timestamp, Body);
        var tampered = Body.Replace("3400", "1", StringComparison.Ordinal);
        var stale = (Now - TimeSpan.FromMinutes(10)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        RoomShareWebhook.Verify(Secret, Body, Timestamp, "v1=" + new string('0', 64), Now, Tolerance).Should().BeFalse("a forged signature");
        RoomShareWebhook.Verify(Secret, tampered, Timestamp, signature, Now, Tolerance).Should().BeFalse("the body was changed");
        RoomShareWebhook.Verify(Secret, Body, Timestamp, WebhookSignature.Sign("another-secret-0123456789", Timestamp, Body), Now, Tolerance).Should().BeFalse("signed with another secret");
        RoomShareWebhook.Verify(Secret, Body, stale, WebhookSignature.Sign(Secret, stale, Body), Now, Tolerance).Should().BeFalse("a replay of an old request");
        RoomShareWebhook.Verify(Secret, Body, Timestamp, signature[3..], Now, Tolerance).Should().BeFalse("no v1= prefix");
        RoomShareWebhook.Verify(Secret, Body, Timestamp, "v1=zz", Now, Tolerance).Should().BeFalse("not hex");
        RoomShareWebhook.Verify(Secret, Body, null, signature, Now, Tolerance).Should().BeFalse("no timestamp");
        RoomShareWebhook.Verify(Secret, Body, Timestamp, null, Now, Tolerance).Should().BeFalse("no signature");
    }

    [Theory]
    [InlineData("253402300800")] // one second past the last DateTimeOffset
    [InlineData("99999999999999")]
    [InlineData("9223372036854775807")]
    public void ATimestampPastTheCalendarIsRejectedNotThrown(string timestamp)
    {
        // A forger picks the header: the receiver's check must answer false, not throw (a 500 instead of a refusal).
        var verify = () => RoomShareWebhook.Verify(Secret, Body, timestamp, WebhookSignature.Sign(Secret, timestamp, Body), Now, Tolerance);

        verify.Should().NotThrow().Which.Should().BeFalse("a timestamp that far ahead is not recent");
    }
}
