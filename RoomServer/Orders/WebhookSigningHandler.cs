using System.Globalization;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Inside the resilience handler, so it runs once per attempt: each attempt carries a fresh
/// <c>RoomShare-Timestamp</c> and its signature (a receiver may refuse old timestamps), over the same
/// body and order id. Counts the attempts for the delivery status.
/// </summary>
public sealed class WebhookSigningHandler(TimeProvider time) : DelegatingHandler
{
    public static readonly HttpRequestOptionsKey<string> Secret = new("RoomShare.WebhookSecret");
    public static readonly HttpRequestOptionsKey<AttemptCounter> Attempts = new("RoomShare.WebhookAttempts");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(Secret, out var secret) || request.Content is null)
        {
            throw new InvalidOperationException("a webhook request needs its endpoint's secret and a body");
        }

        if (request.Options.TryGetValue(Attempts, out var attempts))
        {
            attempts.Increment();
        }

        var body = await request.Content.ReadAsStringAsync(cancellationToken);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        request.Headers.Remove(WebhookSignature.TimestampHeader);
        request.Headers.Remove(WebhookSignature.SignatureHeader);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp);
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, timestamp, body));
        return await base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Attempts made so far in this process for one record and endpoint (the handler counts them).</summary>
public sealed class AttemptCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Increment() => Interlocked.Increment(ref _count);
}
