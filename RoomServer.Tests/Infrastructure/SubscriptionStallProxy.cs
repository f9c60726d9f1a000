using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of redis-server that can make a replica silently deaf: while
/// <see cref="StallSubscriptions"/> is on, nothing Redis sends on a subscription connection (one
/// whose client has sent a SUBSCRIBE) reaches the client — the socket stays open and the client's
/// commands still reach Redis, so neither side sees a failure. Interactive connections pass freely.
/// Bytes held back are delivered, in order, once the stall ends.
/// </summary>
public sealed class SubscriptionStallProxy : IAsyncDisposable
{
    private static readonly byte[] SubscribeCommand = Encoding.ASCII.GetBytes("SUBSCRIBE");

    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly Task _accepting;
    private volatile TaskCompletionSource _flowing = Completed();
    private int _subscriptionConnections;

    private SubscriptionStallProxy(IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>How many connections have been seen subscribing (re-subscriptions after a reconnect count again).</summary>
    public int SubscriptionConnections => Volatile.Read(ref _subscriptionConnections);

    public bool StallSubscriptions
    {
        get => !_flowing.Task.IsCompleted;
        set
        {
            if (value && !StallSubscriptions)
            {
                _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            else if (!value)
            {
                _flowing.TrySetResult();
            }
        }
    }

    public static SubscriptionStallProxy Start(int redisPort) => new(new IPEndPoint(IPAddress.Loopback, redisPort));

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var server = new TcpClient();
        lock (_sockets)
        {
            _sockets.Add(client);
            _sockets.Add(server);
        }

        try
        {
            await server.ConnectAsync(_target, _stop.Token);
            var connection = new RelayedConnection();
            var up = PumpAsync(client.GetStream(), server.GetStream(), connection, toClient: false);
            var down = PumpAsync(server.GetStream(), client.GetStream(), connection, toClient: true);
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // One side went away: close both.
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, RelayedConnection connection, bool toClient)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                if (!toClient && !connection.IsSubscription && Contains(buffer.AsSpan(0, read), SubscribeCommand))
                {
                    connection.IsSubscription = true;
                    Interlocked.Increment(ref _subscriptionConnections);
                }

                if (toClient && connection.IsSubscription)
                {
                    await _flowing.Task.WaitAsync(_stop.Token);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            // The relay ends with either side.
        }
    }

    private static bool Contains(ReadOnlySpan<byte> data, ReadOnlySpan<byte> upperCaseAscii)
    {
        for (var i = 0; i + upperCaseAscii.Length <= data.Length; i++)
        {
            var match = true;
            for (var j = 0; j < upperCaseAscii.Length && match; j++)
            {
                match = (data[i + j] & 0xDF) == upperCaseAscii[j];
            }

            if (match)
            {
                return true;
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        _flowing.TrySetResult();
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _accepting;
        _stop.Dispose();
    }

    private sealed class RelayedConnection
    {
        public volatile bool IsSubscription;
    }
}
