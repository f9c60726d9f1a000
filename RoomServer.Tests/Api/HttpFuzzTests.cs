using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Api;

/// <summary>
/// A bounded fuzz of the HTTP API through a real server (Kestrel on loopback), in both storage modes:
/// <see cref="Requests"/> random requests — real and hostile ids (the dead-letter routes' too), wrong methods, wrong or missing
/// content types and keys, malformed, truncated, deeply nested, non-UTF-8 and oversized bodies, and the
/// hub endpoint's own requests (negotiate, sends, polls, streams, upgrades) with member tokens and bad
/// connection ids. Every
/// answer must be below 500, and every 4xx an application/problem+json whose <c>code</c> is one of
/// DESIGN.md §5 and whose <c>status</c> is the response's. The RNG is seeded: a failure prints the seed,
/// and <c>ROOMSHARE_FUZZ_SEED=N</c> replays exactly that run.
/// </summary>
public abstract class HttpFuzzTests(ContractServer server)
{
    public const int Requests = 1600;

    private static readonly HashSet<string> Codes =
    [
        RoomErrorCodes.Unauthorized, RoomErrorCodes.Forbidden, RoomErrorCodes.RoomNotFound, RoomErrorCodes.RoomLocked,
        RoomErrorCodes.RoomClosed, RoomErrorCodes.UnknownMenuItem, RoomErrorCodes.InvalidQuantity, RoomErrorCodes.InvalidArgument,
        RoomErrorCodes.RateLimited, RoomErrorCodes.PayloadTooLarge, RoomErrorCodes.Unavailable,
    ];

    [Fact]
    public async Task RandomMalformedRequestsNeverGet5xxAndEvery4xxIsAProblemWithASection5Code()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ROOMSHARE_FUZZ_SEED"), out var fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        var created = new[] { await server.CreateRoomAsync(), await server.CreateRoomAsync() };
        var rooms = created.Select(r => r.Id).ToArray();
        var memberTokens = new[] { await server.TokenAsync(created[0], "ann"), await server.TokenAsync(created[1], "bob") };
        var fuzz = new HttpFuzzer(new Random(seed), server.ApiKey, rooms, memberTokens);
        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        var hubRefusals = 0;

        for (var i = 0; i < Requests && failures.Count < 10; i++)
        {
            var (request, description) = fuzz.Next();
            if (Environment.GetEnvironmentVariable("ROOMSHARE_FUZZ_TRACE") == "1")
            {
                Console.Error.WriteLine($"#{i} {description}");
            }

            using var _ = request;
            var toHub = request.RequestUri!.OriginalString.StartsWith("/hubs/", StringComparison.Ordinal);
            HttpResponseMessage sent;
            try
            {
                sent = await server.Anonymous.SendAsync(request);
            }
            catch (HttpRequestException ex)
            {
                failures.Add($"#{i} {description} → no answer: {ex.InnerException?.Message ?? ex.Message}");
                continue;
            }

            using var response = sent;
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (toHub && status is 400 or 404 or 405)
            {
                hubRefusals++;
            }
            if (await ProblemWithAsync(response, request.Method) is { } problem)
            {
                failures.Add($"#{i} {description} → {status}: {problem}");
            }
        }

        var summary = string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"));
        failures.Should().BeEmpty($"seed {seed} (replay: ROOMSHARE_FUZZ_SEED={seed}); statuses: {summary}; failures:\n{string.Join('\n', failures)}\n");
        statuses.Keys.Should().Contain([400, 401, 404, 405, 413, 415], $"the fuzz reaches every kind of refusal (seed {seed}; {summary})");
        hubRefusals.Should().BePositive($"the fuzz gets past the hub's authentication to SignalR's own refusals (seed {seed})");
        (await server.Api.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK, "the server is still up");
    }

    /// <summary>What is wrong with the answer, or null.</summary>
    private static async Task<string?> ProblemWithAsync(HttpResponseMessage response, HttpMethod method)
    {
        var status = (int)response.StatusCode;
        if (status >= 500)
        {
            return "a server error";
        }

        if (status < 400)
        {
            return null;
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType?.MediaType ?? "(none)"}, not application/problem+json";
        }

        if (method == HttpMethod.Head)
        {
            return null;
        }

        var body = await response.Content.ReadAsStringAsync();
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (!root.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.String || !Codes.Contains(code.GetString()!))
            {
                return $"no §5 code in {Truncate(body)}";
            }

            return root.TryGetProperty("status", out var s) && s.TryGetInt32(out var problemStatus) && problemStatus == status
                ? null
                : $"the problem's status is not {status}: {Truncate(body)}";
        }
        catch (JsonException)
        {
            return $"a body that is not JSON: {Truncate(body)}";
        }
    }

    private static string Truncate(string text) => text.Length > 200 ? text[..200] + "…" : text;
}

/// <summary>Builds one random request at a time from a seeded RNG (so a run can be replayed).</summary>
internal sealed class HttpFuzzer(Random random, string apiKey, string[] rooms, string[] memberTokens)
{
    // Weighted towards the methods the routes take, so bodies get read as often as they are refused.
    private static readonly string[] Methods = ["POST", "POST", "POST", "PUT", "PUT", "GET", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND"];

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json", "application/json", "application/json; charset=utf-8", "text/plain",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/problem+json",
        "application/json; charset=utf-16", "*/*", "text/json",
    ];

    private const string HubPath = "/hubs/room";

    private static readonly string[] Accepts = ["application/json", "text/html", "*/*", "application/xml", "image/png", "text/event-stream"];

    private static readonly string[] HostileIds =
    [
        "*", "room*", "{x}", "a}b", "a:b", "a b", "a\nb", "a\r\nSET x 1", "é", "😀", "a%2Fb", "a?b", "..x", "-", "_",
        new string('a', 65), new string('z', 300), "ROOM", "NoSuchRoom",
    ];

    public (HttpRequestMessage Request, string Description) Next()
    {
        var path = Path();
        var hub = path.StartsWith(HubPath, StringComparison.Ordinal);

        // The hub's connection endpoint polls, streams and upgrades with GET: half its requests are one.
        var method = hub && random.Next(2) == 0 ? "GET" : Pick(Methods);
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        var key = random.Next(10) switch
        {
            < 7 => hub ? Pick(memberTokens) : apiKey,
            7 => "wrong-key-" + random.Next(),
            _ => null,
        };
        if (key is not null)
        {
            // The hub takes a member token; the API an API key.
            request.Headers.TryAddWithoutValidation(hub ? "Authorization" : "X-Api-Key", hub ? "Bearer " + key : key);
        }

        if (random.Next(3) == 0)
        {
            request.Headers.TryAddWithoutValidation("Accept", Pick(Accepts));
        }

        string bodyKind = "none";
        if (hub && method == "GET" && path.Contains("?id=", StringComparison.Ordinal) && !path.EndsWith("?id=", StringComparison.Ordinal) && random.Next(2) == 0)
        {
            // A WebSocket upgrade naming a connection that does not exist (so none is accepted), without a
            // body (Kestrel itself refuses an upgrade that has one).
            request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
            request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
            request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
            request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        }
        else if (random.Next(5) != 0)
        {
            (var bytes, bodyKind) = Body(path);
            request.Content = new ByteArrayContent(bytes);

            // Kestrel answers a body it will not read (over its limit) and then closes the connection;
            // a client that reused it for the next request would see that request fail. Real clients
            // retry on a new connection; this one simply does not reuse it.
            request.Headers.ConnectionClose = bytes.Length > 256 * 1024;
            if (request.Headers.ConnectionClose == true)
            {
                // Oversized: as JSON, so the routes that read a body meet the limit (413), not 415.
                request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            }
            else if (random.Next(8) != 0)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", Pick(ContentTypes));
            }
        }

        var contentType = request.Content?.Headers.ContentType?.ToString() ?? "(none)";
        var credential = key is null ? "none" : key == apiKey || memberTokens.Contains(key) ? "valid" : "wrong";
        return (request, $"{method} {Shorten(path)} key={credential} type={contentType} body={bodyKind}{(request.Headers.Upgrade.Count > 0 ? " upgrade" : "")}");
    }

    private string Path()
    {
        var room = RoomId();
        var path = random.Next(15) switch
        {
            14 => "/api/deadletters" + Pick(["", "/retry", "/" + Uri.EscapeDataString(Id()), "/" + Uri.EscapeDataString(Id()) + "/retry"]),
            12 => HubPath + "/negotiate" + Pick(["", "?negotiateVersion=1", "?negotiateVersion=" + Uri.EscapeDataString(Id())]),
            13 => HubPath + Pick(["", "?id=" + Uri.EscapeDataString(Id()), "?id=", "?room=" + room]),
            0 => "/api/rooms",
            1 => $"/api/rooms/{room}",
            2 or 3 => $"/api/rooms/{room}/tokens",
            4 => $"/api/rooms/{room}/notices",
            5 => $"/api/rooms/{room}/state",
            6 => $"/api/rooms/{room}/members/{Id()}",
            7 => "/api/announcements",
            8 => $"/api/{Id()}",
            9 => $"/api/rooms/{room}/{Id()}/{Id()}",
            10 => "/api",
            _ => $"/api/rooms/{room}/events",
        };
        return random.Next(6) == 0 ? path + "?" + Uri.EscapeDataString(Id()) + "=" + Uri.EscapeDataString(Id()) : path;
    }

    private string RoomId() => random.Next(3) == 0 ? Uri.EscapeDataString(Id()) : Pick(rooms);

    private string Id() => random.Next(3) switch
    {
        0 => Pick(HostileIds),
        1 => RandomText(random.Next(1, 20)),
        _ => "m" + random.Next(1000),
    };

    private (byte[] Bytes, string Kind) Body(string path)
    {
        switch (random.Next(10))
        {
            case 0:
                return (new byte[random.Next(257, 400) * 1024], "oversized zeros");
            case 1:
                var bytes = new byte[random.Next(1, 200)];
                random.NextBytes(bytes);
                return (bytes, "random bytes");
            case 2:
                var depth = random.Next(65, 3000);
                return (Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth)), $"nested {depth}");
            case 3:
                var valid = ValidBodyFor(path);
                return (Encoding.UTF8.GetBytes(valid[..random.Next(valid.Length)]), "truncated");
            case 4:
                return (Encoding.UTF8.GetBytes(RandomJsonValue(3)), "random JSON");
            default:
                return (Encoding.UTF8.GetBytes(Mutate(ValidBodyFor(path))), "mutated");
        }
    }

    private static string ValidBodyFor(string path) => path switch
    {
        _ when path.EndsWith("/tokens", StringComparison.Ordinal) => """{"memberId":"ann","displayName":"Ann","role":"member"}""",
        _ when path.EndsWith("/notices", StringComparison.Ordinal) => """{"kind":"promo","payload":{"text":"hi"}}""",
        _ when path.EndsWith("/state", StringComparison.Ordinal) => """{"state":"locked"}""",
        _ when path.EndsWith("/announcements", StringComparison.Ordinal) => """{"kind":"maintenance","message":"soon"}""",
        _ => """{"name":"Table","menu":[{"id":"pizza","name":"Pizza","priceMinor":1200}],"ttlMinutes":30}""",
    };

    /// <summary>Swaps a value for a random one, or repeats a property, or drops a character.</summary>
    private string Mutate(string json) => random.Next(4) switch
    {
        0 => json.Replace("\"ann\"", RandomJsonValue(1), StringComparison.Ordinal)
            .Replace("1200", RandomJsonValue(1), StringComparison.Ordinal)
            .Replace("\"locked\"", RandomJsonValue(1), StringComparison.Ordinal),
        1 => json.Replace("\"pizza\"", JsonSerializer.Serialize(Pick(HostileIds)), StringComparison.Ordinal)
            .Replace("\"ann\"", JsonSerializer.Serialize(Pick(HostileIds)), StringComparison.Ordinal),
        2 => json.Remove(random.Next(json.Length), 1),
        _ => json,
    };

    private string RandomJsonValue(int depth) => random.Next(depth > 0 ? 9 : 6) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => random.Next(4) == 0 ? "1e400" : (random.NextDouble() * 1e12 - 5e11).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        3 => JsonSerializer.Serialize(RandomText(random.Next(0, 40))),
        4 => long.MinValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        5 => JsonSerializer.Serialize(new string('x', random.Next(0, 5000))),
        6 => "[" + string.Join(',', Enumerable.Range(0, random.Next(4)).Select(_ => RandomJsonValue(depth - 1))) + "]",
        _ => "{" + string.Join(',', Enumerable.Range(0, random.Next(4)).Select(_ => JsonSerializer.Serialize(Pick(["name", "menu", "id", "memberId", "kind", "payload", "state", "role", RandomText(5)])) + ":" + RandomJsonValue(depth - 1))) + "}",
    };

    private string RandomText(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = random.Next(4) switch
            {
                0 => (char)random.Next(0x20, 0x7F),
                1 => (char)random.Next(0xA0, 0x2000),
                2 => "{}:*\"\\ \t\n"[random.Next(9)],
                _ => (char)random.Next('a', 'z' + 1),
            };
        }

        return new string(chars);
    }

    private string Pick(string[] items) => items[random.Next(items.Length)];

    private static string Shorten(string text) => text.Length > 120 ? text[..120] + $"…({text.Length})" : text;
}

[Trait("Suite", "Fuzz")]
public sealed class EmbeddedHttpFuzzTests(EmbeddedContractServer server)
    : HttpFuzzTests(server), IClassFixture<EmbeddedContractServer>;

[Trait("Suite", "Fuzz")]
public sealed class RedisHttpFuzzTests(RedisContractServer server)
    : HttpFuzzTests(server), IClassFixture<RedisContractServer>;
