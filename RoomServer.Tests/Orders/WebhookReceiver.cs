using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>How the receiver answers one request.</summary>
public enum ReceiverAnswer
{
    Ok,
    ServerError,
    Reject,
    Stall,

    /// <summary>302 to another path, which records being followed (a webhook sender must not follow).</summary>
    Redirect,

    /// <summary>503 with <c>Retry-After</c>: <see cref="WebhookReceiver.RetryAfter"/>, in whole seconds.</summary>
    RetryLater,
}

/// <summary>One POST the receiver got, with what it answered and when.</summary>
public sealed record ReceivedWebhook(
    TimeSpan At, string OrderId, string? Timestamp, string? Signature, string Body, bool SignatureValid, ReceiverAnswer Answer)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string Type => Json.GetProperty("type").GetString()!;

    public long Version => Json.GetProperty("version").GetInt64();
}

/// <summary>
/// A real HTTP receiver on 127.0.0.1 (a tiny Kestrel app), playing a restaurant system. Its port is fixed
/// at construction, but it listens only once started — before that, connections are refused. Each request
/// is answered as <see cref="Answers"/> says (default 200), checked with <see cref="RoomShareWebhook"/>,
/// and recorded.
/// </summary>
public sealed class WebhookReceiver(string secret) : IAsyncDisposable
{
    private readonly Channel<ReceivedWebhook> _received = Channel.CreateUnbounded<ReceivedWebhook>();
    private readonly ConcurrentQueue<ReceivedWebhook> _all = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private WebApplication? _app;
    private int _redirectsFollowed;
    private int _inFlight;
    private int _mostInFlight;

    public int Port { get; } = FreePort.Next();

    public string Secret { get; } = secret;

    public string Url => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/hooks/orders";

    /// <summary>The answer to the n-th request (0-based); defaults to 200 for all.</summary>
    public Func<int, ReceiverAnswer> Answers { get; set; } = _ => ReceiverAnswer.Ok;

    public IReadOnlyList<ReceivedWebhook> All => [.. _all];

    /// <summary>How long each request waits before it is answered (a slow receiver).</summary>
    public TimeSpan AnswerDelay { get; set; } = TimeSpan.Zero;

    /// <summary>The wait a <see cref="ReceiverAnswer.RetryLater"/> asks for.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most requests the receiver was answering at one time.</summary>
    public int MostInFlight => Volatile.Read(ref _mostInFlight);

    /// <summary>Requests that followed a <see cref="ReceiverAnswer.Redirect"/>.</summary>
    public int RedirectsFollowed => Volatile.Read(ref _redirectsFollowed);

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}");
        var app = builder.Build();
        var count = -1;
        app.MapPost("/hooks/orders", async (HttpContext http) =>
        {
            var inFlight = Interlocked.Increment(ref _inFlight);
            try
            {
                var most = Volatile.Read(ref _mostInFlight);
                while (inFlight > most && Interlocked.CompareExchange(ref _mostInFlight, inFlight, most) != most)
                {
                    most = Volatile.Read(ref _mostInFlight);
                }

                if (AnswerDelay > TimeSpan.Zero)
                {
                    await Task.Delay(AnswerDelay, http.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                return await AnswerAsync(http);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        });
        app.Map("/hooks/moved", () =>
        {
            Interlocked.Increment(ref _redirectsFollowed);
            return Results.NoContent();
        });
        await app.StartAsync();
        _app = app;

        async Task<IResult> AnswerAsync(HttpContext http)
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var timestamp = http.Request.Headers["RoomShare-Timestamp"].ToString();
            var signature = http.Request.Headers["RoomShare-Signature"].ToString();
            var answer = Answers(Interlocked.Increment(ref count));
            var valid = RoomShareWebhook.Verify(Secret, body, timestamp, signature, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
            var received = new ReceivedWebhook(_clock.Elapsed, http.Request.Headers["RoomShare-Order-Id"].ToString(), timestamp, signature, body, valid, answer);
            _all.Enqueue(received);
            _received.Writer.TryWrite(received);
            switch (answer)
            {
                case ReceiverAnswer.Stall:
                    await Task.Delay(TimeSpan.FromSeconds(30), http.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    return Results.StatusCode(504);
                case ReceiverAnswer.ServerError:
                    return Results.StatusCode(500);
                case ReceiverAnswer.Reject:
                    return Results.StatusCode(422);
                case ReceiverAnswer.Redirect:
                    return Results.Redirect("/hooks/moved");
                case ReceiverAnswer.RetryLater:
                    http.Response.Headers.RetryAfter = ((long)RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    return Results.StatusCode(503);
                default:
                    return Results.NoContent();
            }
        }
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await app.StopAsync(stop.Token);
            await app.DisposeAsync();
        }
    }

    /// <summary>The next request received, within the timeout (which says what came so far if it runs out).</summary>
    public async Task<ReceivedWebhook> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _received.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no webhook within {timeout.TotalSeconds:0} s; received so far: {Describe()}");
        }
    }

    /// <summary>Reads requests until one the server counts as delivered (answered 200) arrives.</summary>
    public async Task<ReceivedWebhook> NextDeliveredAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var next = await NextAsync(deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            if (next.Answer == ReceiverAnswer.Ok)
            {
                return next;
            }
        }
    }

    public string Describe() => string.Join("; ", _all.Select(r => $"{r.At.TotalMilliseconds:0} ms {r.OrderId} {r.Answer}"));

    public ValueTask DisposeAsync() => new(StopAsync());
}
