using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.RateLimiting;
using Polly.Timeout;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Sends one record to one endpoint through the <see cref="ClientName"/> client, whose resilience handler
/// (<see cref="ConfigurePipeline"/>) retries with exponential backoff and jitter (<see cref="RetryBackoff"/>; or the receiver's
/// <c>Retry-After</c>, within the same bounds: <see cref="RetryAfterDelay"/>), bounds the attempts in
/// flight to each endpoint from this replica, and bounds each attempt.
/// Every attempt carries the same body and <c>RoomShare-Order-Id</c>.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients)
{
    public const string ClientName = "roomshare-webhooks";

    /// <summary>Attempts an earlier holder of the record already made (a takeover continues the count).</summary>
    private static readonly ResiliencePropertyKey<int> PreviousAttempts = new("RoomShare.PreviousAttempts");

    /// <summary>
    /// Persists "attempt N failed with E, the next one in D" before waiting for it (the operator view's attempts and
    /// lastError, and the next attempt's time a takeover keeps to).
    /// </summary>
    private static readonly ResiliencePropertyKey<Func<int, string, TimeSpan, Task>> AttemptFailed = new("RoomShare.AttemptFailed");

    private static readonly ResiliencePropertyKey<AttemptCounter> Counter = new("RoomShare.Attempts");

    /// <summary>The endpoint's URL: its requests in flight are limited apart from every other endpoint's.</summary>
    private static readonly ResiliencePropertyKey<string> Endpoint = new("RoomShare.Endpoint");

    public async Task<DeliveryResult> SendAsync(
        OutboxEntry entry, WebhookEndpoint endpoint, int previousAttempts, Func<int, string, TimeSpan, Task> attemptFailed, CancellationToken cancellationToken)
    {
        var counter = new AttemptCounter();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(PreviousAttempts, previousAttempts);
        context.Properties.Set(AttemptFailed, attemptFailed);
        context.Properties.Set(Counter, counter);
        context.Properties.Set(Endpoint, endpoint.Url);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(entry.Body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add(WebhookSignature.OrderIdHeader, entry.OrderId);
        request.Options.Set(WebhookSigningHandler.Secret, endpoint.Secret);
        request.Options.Set(WebhookSigningHandler.Attempts, counter);
        request.SetResilienceContext(context);
        try
        {
            // Headers only: the status is the answer, and a body that stalls after them would hold the
            // delivery past the attempt's deadline (the pipeline has returned by then).
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return response.IsSuccessStatusCode
                ? new DeliveryResult(true, previousAttempts + counter.Count, null)
                : new DeliveryResult(false, previousAttempts + counter.Count, Describe(Outcome.FromResult(response)));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new DeliveryResult(false, previousAttempts + counter.Count, Describe(Outcome.FromException<HttpResponseMessage>(ex)));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Retry outside, then the limit on requests in flight to the endpoint, the per-attempt timeout inside. Anything but 2xx is retried (DESIGN.md §8) until the
    /// record has had <c>MaxAttempts</c> attempts in all, counting those of a replica that died holding it.
    /// </summary>
    public static void ConfigurePipeline(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, IServiceProvider services)
    {
        var webhooks = services.GetRequiredService<IOptions<RoomServerOptions>>().Value.Webhooks;
        var metrics = services.GetRequiredService<WebhookMetrics>();
        var time = services.GetRequiredService<TimeProvider>();
        var baseDelay = TimeSpan.FromMilliseconds(webhooks.RetryBaseDelayMilliseconds);
        var maxDelay = TimeSpan.FromMilliseconds(webhooks.RetryMaxDelayMilliseconds);
        // One limiter per endpoint URL for the life of the process (the runtime's partitioned limiter would
        // drop an idle endpoint's, and an acquire racing that drop fails: dotnet/runtime#99865).
        var requestsInFlight = new ConcurrentDictionary<string, ConcurrencyLimiter>(StringComparer.Ordinal);
        var limit = new ConcurrencyLimiterOptions
        {
            PermitLimit = webhooks.MaxConcurrentRequests,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        };
        pipeline
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = webhooks.MaxAttempts,
                BackoffType = DelayBackoffType.Exponential,
                Delay = baseDelay,
                MaxDelay = maxDelay,

                // The library's own Retry-After reading takes the receiver's wish as it is, past MaxDelay
                // and down to zero; ours keeps it within the backoff's bounds. Without one, our backoff: the
                // library's jitter goes below the base delay (RetryBackoff). (Set in this order: turning the
                // header off clears the generator.)
                ShouldRetryAfterHeader = false,
                // The series goes on from the record's attempts in all, not this replica's: a takeover that started it
                // over would wait the base again and spend the remaining attempts within seconds (DESIGN.md §8).
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    RetryAfterDelay.Bounded(args.Outcome.Result, baseDelay, maxDelay, time.GetUtcNow())
                    ?? RetryBackoff.Delay(AttemptsMade(args.Context, args.AttemptNumber) - 1, baseDelay, maxDelay, Random.Shared.NextDouble())),
                ShouldHandle = args =>
                {
                    var failed = IsFailure(args.Outcome, args.Context.CancellationToken);
                    if (failed)
                    {
                        metrics.AttemptFailed();
                    }

                    return ValueTask.FromResult(failed && AttemptsMade(args.Context, args.AttemptNumber) < webhooks.MaxAttempts);
                },
                OnRetry = async args =>
                {
                    metrics.Retried();
                    var made = AttemptsMade(args.Context, args.AttemptNumber);
                    if (args.Context.Properties.TryGetValue(AttemptFailed, out var report))
                    {
                        await report(made, Describe(args.Outcome) + $"; next attempt in {args.RetryDelay.TotalMilliseconds:0} ms", args.RetryDelay);
                    }
                },
            })
            // Inside the retry, so a request waiting out its backoff holds no permit; outside the timeout,
            // so waiting for a permit is not counted against the attempt's deadline. Per endpoint, so one
            // that hangs holds only its own permits. The delivery worker bounds the rooms (and so the
            // queues) it starts.
            .AddRateLimiter(new RateLimiterStrategyOptions
            {
                RateLimiter = args => requestsInFlight
                    .GetOrAdd(args.Context.Properties.GetValue(Endpoint, ""), static (_, options) => new ConcurrencyLimiter(options), limit)
                    .AcquireAsync(1, args.Context.CancellationToken),
            })
            .AddTimeout(TimeSpan.FromSeconds(webhooks.TimeoutSeconds));
    }

    /// <summary>The record's attempts so far, the one just made included: an earlier holder's, then this replica's (<paramref name="attemptNumber"/> is 0-based).</summary>
    private static int AttemptsMade(ResilienceContext context, int attemptNumber) => context.Properties.GetValue(PreviousAttempts, 0) + attemptNumber + 1;

    private static bool IsFailure(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken) => outcome switch
    {
        { Exception: OperationCanceledException } when cancellationToken.IsCancellationRequested => false, // shutting down: the record stays pending
        { Exception: not null } => true,
        { Result: { IsSuccessStatusCode: false } } => true,
        _ => false,
    };

    /// <summary>The last error as the operator sees it: a status, a refused connection, a timeout.</summary>
    public static string Describe(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException timeout } => $"no answer within {timeout.Timeout.TotalSeconds:0.###} s",
        { Exception: HttpRequestException http } => $"request failed: {http.HttpRequestError}: {http.Message}",
        { Exception: { } other } => $"{other.GetType().Name}: {other.Message}",
        { Result: { } response } => $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}",
        _ => "unknown",
    };
}

public sealed record DeliveryResult(bool Delivered, int Attempts, string? LastError);
