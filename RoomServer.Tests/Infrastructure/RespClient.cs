using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A deliberately tiny Redis client (one command per connection, RESP2) so assertions about what the
/// server wrote to Redis do not depend on the server's own Redis library or its connection state.
/// Replies: simple string / bulk string → string, integer → long, nil → null, array → object?[],
/// error → <see cref="InvalidOperationException"/> carrying Redis's text.
/// </summary>
public static class RespClient
{
    public static async Task<object?> ExecuteAsync(int port, IReadOnlyList<string> command, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Count);
        using var cts = new CancellationTokenSource(timeout);
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync("127.0.0.1", port, cts.Token);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encode(command), cts.Token);
            return await new Reader(stream).ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"Redis on port {port} did not answer `{string.Join(' ', command)}` within {timeout.TotalSeconds:0.#}s");
        }
    }

    private static byte[] Encode(IReadOnlyList<string> command)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"*{command.Count}\r\n");
        foreach (var part in command)
        {
            text.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private sealed class Reader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start;
        private int _end;

        public async Task<object?> ReadAsync(CancellationToken cancellationToken)
        {
            var line = await ReadLineAsync(cancellationToken);
            var payload = line[1..];
            switch (line[0])
            {
                case '+':
                    return payload;
                case '-':
                    throw new InvalidOperationException($"Redis error: {payload}");
                case ':':
                    return long.Parse(payload, CultureInfo.InvariantCulture);
                case '$':
                    var length = int.Parse(payload, CultureInfo.InvariantCulture);
                    if (length < 0)
                    {
                        return null;
                    }

                    var bytes = await ReadExactlyAsync(length + 2, cancellationToken); // + CRLF
                    return Encoding.UTF8.GetString(bytes, 0, length);
                case '*':
                    var count = int.Parse(payload, CultureInfo.InvariantCulture);
                    if (count < 0)
                    {
                        return null;
                    }

                    var items = new object?[count];
                    for (var i = 0; i < count; i++)
                    {
                        items[i] = await ReadAsync(cancellationToken);
                    }

                    return items;
                default:
                    throw new InvalidOperationException($"Unexpected RESP reply line: {line}");
            }
        }

        private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
        {
            var line = new List<byte>();
            while (true)
            {
                if (_start == _end)
                {
                    await FillAsync(cancellationToken);
                }

                var b = _buffer[_start++];
                if (b == '\n' && line.Count > 0 && line[^1] == '\r')
                {
                    return Encoding.UTF8.GetString(line.ToArray(), 0, line.Count - 1);
                }

                line.Add(b);
            }
        }

        private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
        {
            var result = new byte[count];
            var copied = 0;
            while (copied < count)
            {
                if (_start == _end)
                {
                    await FillAsync(cancellationToken);
                }

                var n = Math.Min(count - copied, _end - _start);
                Array.Copy(_buffer, _start, result, copied, n);
                _start += n;
                copied += n;
            }

            return result;
        }

        private async Task FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            if (_end == 0)
            {
                throw new IOException("Redis closed the connection before the reply was complete");
            }
        }
    }
}
