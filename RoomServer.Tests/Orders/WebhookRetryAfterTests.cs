using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A receiver's <c>Retry-After</c> is honoured within the retry bounds (DESIGN.md §8): the delivery
/// client's own pipeline (<see cref="WebhookSender.ConfigurePipeline"/>) against a receiver that answers
/// 503 with the header, read from the wait each failed attempt reports for the operator view.
/// </summary>
public sealed partial class WebhookRetryAfterTests
{
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(200);

    public static TheoryData<string, RetryConditionHeaderValue?, int> Wishes => new()
    {
        { "five seconds: capped at the maximum", new RetryConditionHeaderValue(TimeSpan.FromSeconds(5)), 200 },
        { "a date a day away: capped", new RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddDays(1)), 200 },
        { "zero: not sooner than the base delay", new RetryConditionHeaderValue(TimeSpan.Zero), 20 },
        { "a date in the past: the base delay", new RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddMinutes(-5)), 20 },
    };

    [Theory]
    [MemberData(nameof(Wishes))]
    public async Task TheReceiversWishIsKeptWithinTheRetryBounds(string why, RetryConditionHeaderValue? retryAfter, int expectedMs)
    {
        var reports = await DeliverToFailingReceiverAsync(retryAfter);

        reports.Should().HaveCount(2, "three attempts, two waits between them");
        reports.Should().AllSatisfy(wait => wait.Should().Be(expectedMs, why));
    }

    [Fact]
    public async Task WithoutTheHeaderTheBackoffAppliesWithinItsBounds()
    {
        var reports = await DeliverToFailingReceiverAsync(null);

        reports.Should().HaveCount(2);
        reports.Should().AllSatisfy(wait => wait.Should().BeInRange(0, (int)MaxDelay.TotalMilliseconds));
    }

    [Fact]
    public async Task WithoutTheHeaderNoWaitIsShorterThanTheBaseDelayOrLongerThanTheMaximum()
    {
        // The library's decorrelated jitter put some waits far below the base (a few ms apart: two attempts
        // spent at once), which the README's "exponential backoff with jitter between them" rules out.
        // Three rounds of seven waits: one that jitters below the base shows up.
        for (var round = 0; round < 3; round++)
        {
            var reports = await DeliverToFailingReceiverAsync(null, maxAttempts: 8);

            reports.Should().HaveCount(7);
            reports.Should().AllSatisfy(wait => wait.Should().BeInRange((int)BaseDelay.TotalMilliseconds, (int)MaxDelay.TotalMilliseconds));
            reports[^1].Should().BeGreaterThan(reports[0], "each retry waits longer (exponential), up to the maximum");
        }
    }

    [Fact]
    public void TheBoundsApplyToADeltaAndADateAlike()
    {
        var now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        using var inRange = Answer(new RetryConditionHeaderValue(TimeSpan.FromMilliseconds(50)));
        using var dated = Answer(new RetryConditionHeaderValue(now.AddSeconds(30)));
        using var none = Answer(null);

        RetryAfterDelay.Bounded(inRange, BaseDelay, TimeSpan.FromMinutes(1), now).Should().Be(TimeSpan.FromMilliseconds(50));
        RetryAfterDelay.Bounded(dated, BaseDelay, TimeSpan.FromMinutes(1), now).Should().Be(TimeSpan.FromSeconds(30));
        RetryAfterDelay.Bounded(none, BaseDelay, TimeSpan.FromMinutes(1), now).Should().BeNull();
        RetryAfterDelay.Bounded(dated, BaseDelay, TimeSpan.FromSeconds(10), now).Should().Be(TimeSpan.FromSeconds(10), "above the maximum: the maximum");
        RetryAfterDelay.Bounded(inRange, TimeSpan.FromMilliseconds(80), TimeSpan.FromMinutes(1), now).Should().Be(TimeSpan.FromMilliseconds(80), "below the base: the base");
        RetryAfterDelay.Bounded(null, BaseDelay, TimeSpan.FromMinutes(1), now).Should().BeNull();
    }

    /// <summary><paramref name="maxAttempts"/> attempts at a receiver that always answers 503 (with the header if given); the waits reported, in ms.</summary>
    private static async Task<List<int>> DeliverToFailingReceiverAsync(RetryConditionHeaderValue? retryAfter, int maxAttempts = 3)
    {
        var options = new RoomServerOptions
        {
            Webhooks = new WebhookOptions
            {
                MaxAttempts = maxAttempts,
                RetryBaseDelayMilliseconds = (int)BaseDelay.TotalMilliseconds,
                RetryMaxDelayMilliseconds = (int)MaxDelay.TotalMilliseconds,
                TimeoutSeconds = 5,
            },
        };
        var services = new ServiceCollection();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(options));
        services.AddMetrics();
        services.AddSingleton<WebhookMetrics>();
        services.AddWebhookClient().ConfigurePrimaryHttpMessageHandler(() => new AnsweringHandler(() => Answer(retryAfter)));
        await using var provider = services.BuildServiceProvider();

        // Bounded: a wait the pipeline should not have taken fails the test instead of hanging it.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var waits = new List<int>();
        var entry = new OutboxEntry("room", "1-0", "room:1", OrderRecordTypes.Submitted, 1, "2026-11-30T12:00:00Z", "{}", null, new Dictionary<string, EndpointDelivery>());
        var result = await provider.GetRequiredService<WebhookSender>().SendAsync(
            entry,
            new WebhookEndpoint { Url = "http://127.0.0.1:9/hooks", Secret = "a-secret-of-enough-length" },
            previousAttempts: 0,
            (_, error, _) =>
            {
                waits.Add(int.Parse(NextAttempt().Match(error).Groups[1].Value, CultureInfo.InvariantCulture));
                return Task.CompletedTask;
            },
            bound.Token);

        result.Delivered.Should().BeFalse();
        result.Attempts.Should().Be(maxAttempts);
        return waits;
    }

    private static HttpResponseMessage Answer(RetryConditionHeaderValue? retryAfter)
    {
        var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter = retryAfter;
        return response;
    }

    [GeneratedRegex(@"next attempt in (\d+) ms")]
    private static partial Regex NextAttempt();

    private sealed class AnsweringHandler(Func<HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer());
    }
}
