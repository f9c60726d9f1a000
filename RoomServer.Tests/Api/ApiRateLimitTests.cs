using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Api;

/// <summary>A server whose HTTP API takes one request a second per key (burst 3) and per address without one (burst 2).</summary>
public sealed class ApiRateLimitServer : ContractServer
{
    public const int Burst = 3;
    public const int AnonymousBurst = 2;

    public static readonly string[] OwnKeys = [.. Enumerable.Range(1, 3).Select(i => $"rate-key-{i}-" + Guid.NewGuid().ToString("N"))];

    protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
    {
        var settings = new Dictionary<string, string>
        {
            ["RoomServer:Limits:ApiRequestsPerSecond"] = "1",
            ["RoomServer:Limits:ApiRequestBurst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RoomServer:Limits:AnonymousApiRequestsPerSecond"] = "1",
        };
        for (var i = 0; i < OwnKeys.Length; i++)
        {
            settings[$"RoomServer:ApiKeys:{i + 1}"] = OwnKeys[i];
        }

        return Task.FromResult<IReadOnlyDictionary<string, string>>(settings);
    }

    protected override Task StopBackingServicesAsync() => Task.CompletedTask;

    public HttpClient ClientWithKey(string key)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }
}

/// <summary>
/// The HTTP API's rate limits (ASP.NET Core's rate limiter): per API key, and per remote address for
/// requests without a valid key; past either, 429 with a rate_limited problem and Retry-After. The
/// hub and the health endpoints are not limited by it. Each test spends buckets of its own.
/// </summary>
[Trait("Suite", "Limits")]
public sealed class ApiRateLimitTests(ApiRateLimitServer server) : IClassFixture<ApiRateLimitServer>
{
    /// <summary>Requests past this many without a 429 mean the bucket is not enforced.</summary>
    private const int RequestCap = 20;

    [Fact]
    public async Task AKeyPastItsBurstGets429RateLimitedWithRetryAfterAndOtherKeysDoNot()
    {
        using var limited = server.ClientWithKey(ApiRateLimitServer.OwnKeys[0]);
        using var other = server.ClientWithKey(ApiRateLimitServer.OwnKeys[1]);

        var (allowed, refusal) = await SendUntil429Async(limited);

        allowed.Should().BeGreaterThanOrEqualTo(ApiRateLimitServer.Burst, "a full bucket takes a whole burst");
        await ShouldBeRateLimitedProblemAsync(refusal, "this API key's requests");
        using var unaffected = await other.GetAsync("/api/rooms/NoSuchRoom");
        unaffected.StatusCode.Should().Be(HttpStatusCode.NotFound, "each key has a bucket of its own");
        refusal.Dispose();
    }

    [Fact]
    public async Task RequestsWithoutAValidKeyShareTheirAddresssBucketNotAKeys()
    {
        using var wrongKey = server.ClientWithKey("guessed-key-0123456789abcdef");
        using var valid = server.ClientWithKey(ApiRateLimitServer.OwnKeys[2]);

        var (allowed, refusal) = await SendUntil429Async(wrongKey);

        allowed.Should().BeGreaterThanOrEqualTo(ApiRateLimitServer.AnonymousBurst);
        await ShouldBeRateLimitedProblemAsync(refusal, "requests from this address without an API key");
        refusal.Dispose();
        await ShouldBeRefusedOnceDrainedAsync(wrongKey, server.Anonymous, "no key and a wrong key draw on one address bucket");
        using var withKey = await valid.GetAsync("/api/rooms/NoSuchRoom");
        withKey.StatusCode.Should().Be(HttpStatusCode.NotFound, "guessed keys never spend a real key's budget");
        using var health = await server.Anonymous.GetAsync("/healthz");
        health.StatusCode.Should().Be(HttpStatusCode.OK, "only /api is rate limited here");
    }

    /// <summary>
    /// Behind nginx (a trusted proxy: loopback here) every request comes from the proxy's address; the
    /// client's is the last X-Forwarded-For entry, which the proxy appended. Each client gets its own
    /// bucket, and a client cannot choose one by sending the header itself.
    /// </summary>
    [Fact]
    public async Task BehindAProxyEachClientHasItsOwnAddressBucketAndASpoofedEntryChangesNothing()
    {
        using var client = AnonymousBehindProxy("203.0.113.7");
        var (allowed, refusal) = await SendUntil429Async(client);
        allowed.Should().BeGreaterThanOrEqualTo(ApiRateLimitServer.AnonymousBurst);
        await ShouldBeRateLimitedProblemAsync(refusal);
        refusal.Dispose();

        using var spoofing = AnonymousBehindProxy("198.51.100.1, 203.0.113.7");
        await ShouldBeRefusedOnceDrainedAsync(client, spoofing, "the entry the proxy appended decides, not one the client sent");

        using var neighbour = AnonymousBehindProxy("203.0.113.8");
        using var answered = await neighbour.GetAsync("/api/rooms/NoSuchRoom");
        answered.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "another client behind the same proxy has a bucket of its own (and no key: 401, not 429)");
    }

    /// <summary>A client without a key, as nginx forwards it: X-Forwarded-For ends with the address nginx saw.</summary>
    private HttpClient AnonymousBehindProxy(string forwardedFor)
    {
        var client = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return client;
    }

    /// <summary>
    /// <paramref name="probe"/>'s request, right after <paramref name="drainer"/> emptied a bucket, is refused: they share
    /// it. The bucket gets a token back each second on a timer, which may fire between the two requests (and would on
    /// a loaded box that takes long there): then the probe took that token, so the bucket is emptied again and the
    /// probe asked again, once. No more: a probe with a bucket of its own would empty it itself (a burst of
    /// <see cref="ApiRateLimitServer.AnonymousBurst"/>) and be refused at the next try.
    /// </summary>
    private static async Task ShouldBeRefusedOnceDrainedAsync(HttpClient drainer, HttpClient probe, string because)
    {
        var answers = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < ApiRateLimitServer.AnonymousBurst; attempt++)
        {
            (await SendUntil429Async(drainer)).Refusal.Dispose();
            using var probed = await probe.GetAsync("/api/rooms/NoSuchRoom");
            if (probed.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return;
            }

            answers.Add(probed.StatusCode);
        }

        answers.Should().BeEmpty(because);
    }

    private static async Task<(int Allowed, HttpResponseMessage Refusal)> SendUntil429Async(HttpClient client)
    {
        for (var i = 0; i < RequestCap; i++)
        {
            var response = await client.GetAsync("/api/rooms/NoSuchRoom");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return (i, response);
            }

            response.Dispose();
        }

        throw new Xunit.Sdk.XunitException($"{RequestCap} requests in a row were not rate limited");
    }

    /// <summary>A rate_limited problem with Retry-After; <paramref name="limit"/>: the words naming the limit reached (DESIGN §5).</summary>
    private static async Task ShouldBeRateLimitedProblemAsync(HttpResponseMessage response, string? limit = null)
    {
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be(RoomErrorCodes.RateLimited);
        if (limit is not null)
        {
            problem.Detail.Should().Contain(limit);
        }

        response.Headers.RetryAfter!.Delta.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1));
    }
}
