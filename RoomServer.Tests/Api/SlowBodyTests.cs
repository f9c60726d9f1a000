using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Api;

/// <summary>
/// A body that stops arriving is the framework's own refusal (DESIGN §5): Kestrel times it out under its minimum
/// body data rate (240 bytes a second after a 5-second grace) and the answer keeps its 408, a problem with
/// <c>invalid_argument</c>, not a 400 that would tell the client its JSON was wrong.
/// </summary>
public sealed class SlowBodyTests(EmbeddedContractServer server) : IClassFixture<EmbeddedContractServer>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ABodyThatStopsArrivingIsA408ProblemSayingSo()
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(IPAddress.Loopback, server.BaseUrl.Port, timeout.Token);
        await using var stream = client.GetStream();
        const string body = "{\"name\":\"Slow\",\"menu\":[{\"id\":\"a\",\"name\":\"A\",\"priceMinor\":100}]}";
        var head = $"POST /api/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {server.ApiKey}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {body.Length + 1000}\r\n\r\n";
        // The head and part of the body, then nothing: the rest never comes.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + body[..10]), timeout.Token);

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var response = await ReadResponseAsync(reader, timeout.Token);

        response.StatusLine.Should().StartWith("HTTP/1.1 408");
        response.Headers.Should().Contain(h => h.StartsWith("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase));
        using var problem = JsonDocument.Parse(response.Body);
        problem.RootElement.GetProperty("code").GetString().Should().Be(RoomErrorCodes.InvalidArgument);
        problem.RootElement.GetProperty("status").GetInt32().Should().Be(408);
        problem.RootElement.GetProperty("detail").GetString().Should().Be("the request body stopped arriving before it was complete");
        (await reader.ReadToEndAsync(timeout.Token)).Trim().Should().Be("0", "the last chunk, then Kestrel ends a connection whose body it gave up on");
    }

    private static async Task<(string StatusLine, List<string> Headers, string Body)> ReadResponseAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var statusLine = await reader.ReadLineAsync(cancellationToken) ?? "";
        var headers = new List<string>();
        for (var line = await reader.ReadLineAsync(cancellationToken); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync(cancellationToken))
        {
            headers.Add(line);
        }

        if (headers.Any(h => h.Equals("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)))
        {
            // One chunk then the last: Kestrel writes a small problem in one piece.
            var size = Convert.ToInt32(await reader.ReadLineAsync(cancellationToken), 16);
            var chunk = new char[size];
            await reader.ReadBlockAsync(chunk, cancellationToken);
            return (statusLine, headers, new string(chunk));
        }

        var length = headers.Select(h => h.Split(':', 2)).Where(h => h[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(h => int.Parse(h[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        var body = new char[length];
        var read = 0;
        while (read < length)
        {
            var n = await reader.ReadAsync(body.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return (statusLine, headers, new string(body, 0, read));
    }
}
