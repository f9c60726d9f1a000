using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy (127.0.0.1:<see cref="Port"/> → 127.0.0.1:target) that can cut what passes
/// through it, so one replica can lose Redis while the others keep it (point that replica's
/// <c>ConnectionStrings__Redis</c> at <see cref="Endpoint"/>). <see cref="Drop"/> closes every
/// connection and refuses new ones (a dead link: the client sees resets); <see cref="Stall"/> keeps
/// the connections open but moves no byte either way (a black hole: the client sees timeouts);
/// <see cref="Heal"/> forwards again. Bytes held back by a stall are delivered after the heal.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<(TcpClient Client, TcpClient Upstream)> _connections = [];
    private TaskCompletionSource _flowing = NewOpenGate();
    private ProxyMode _mode = ProxyMode.Forward;
    private Task _acceptLoop = Task.CompletedTask;

    private TcpFaultProxy(TcpListener listener, int targetPort)
    {
        _listener = listener;
        _targetPort = targetPort;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>"127.0.0.1:port", for a connection string.</summary>
    public string Endpoint => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public ProxyMode Mode
    {
        get
        {
            lock (_gate)
            {
                return _mode;
            }
        }
    }

    /// <summary>Connections accepted so far (proof the client really goes through the proxy).</summary>
    public int Accepted { get; private set; }

    public static TcpFaultProxy Start(int targetPort)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var proxy = new TcpFaultProxy(listener, targetPort);
        proxy._acceptLoop = Task.Run(proxy.AcceptLoopAsync);
        return proxy;
    }

    /// <summary>Closes every open connection (RST) and refuses new ones until <see cref="Heal"/>.</summary>
    public void Drop()
    {
        List<(TcpClient Client, TcpClient Upstream)> open;
        lock (_gate)
        {
            _mode = ProxyMode.Drop;
            open = [.. _connections];
            _connections.Clear();
            _flowing.TrySetResult(); // a stalled pump wakes up and finds its sockets gone
        }

        foreach (var (client, upstream) in open)
        {
            Abort(client);
            Abort(upstream);
        }
    }

    /// <summary>Keeps every connection open but forwards nothing, and accepts new ones that hang the same way.</summary>
    public void Stall()
    {
        lock (_gate)
        {
            _mode = ProxyMode.Stall;
            if (_flowing.Task.IsCompleted)
            {
                _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Forwards again: stalled bytes flow, new connections are accepted.</summary>
    public void Heal()
    {
        lock (_gate)
        {
            _mode = ProxyMode.Forward;
            _flowing.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        Drop();
        await Task.WhenAny(_acceptLoop, Task.Delay(TimeSpan.FromSeconds(2)));
        _stopping.Dispose();
    }

    private static TaskCompletionSource NewOpenGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private static void Abort(TcpClient client)
    {
        try
        {
            // Null once closed; then there is nothing left to abort.
            if (client.Client is { } socket)
            {
                socket.LingerState = new LingerOption(true, 0); // RST, as a broken link would
            }

            client.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    private async Task AcceptLoopAsync()
    {
        // Bounded by the listener: Stop() in DisposeAsync ends AcceptTcpClientAsync.
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Accepted++;
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        if (Mode == ProxyMode.Drop)
        {
            Abort(client);
            return;
        }

        var upstream = new TcpClient { NoDelay = true };
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stopping.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            Abort(client);
            upstream.Dispose();
            return;
        }

        lock (_gate)
        {
            if (_mode == ProxyMode.Drop)
            {
                Abort(client);
                Abort(upstream);
                return;
            }

            _connections.Add((client, upstream));
        }

        client.NoDelay = true;
        await Task.WhenAll(PumpAsync(client, upstream), PumpAsync(upstream, client));
        lock (_gate)
        {
            _connections.Remove((client, upstream));
        }

        Abort(client);
        Abort(upstream);
    }

    /// <summary>Copies one direction until either side closes; every chunk waits for the gate first.</summary>
    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();

            // Bounded by the sockets: ends when either closes (Drop and DisposeAsync close them).
            while (true)
            {
                await GateAsync();
                var read = await source.ReadAsync(buffer, _stopping.Token);
                if (read == 0)
                {
                    break;
                }

                await GateAsync(); // a stall that began while reading holds this chunk back too
                await target.WriteAsync(buffer.AsMemory(0, read), _stopping.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The link broke (or was dropped on purpose): close both sides below.
        }

        Abort(from);
        Abort(to);
    }

    private Task GateAsync()
    {
        Task gate;
        lock (_gate)
        {
            gate = _flowing.Task;
        }

        return gate.WaitAsync(_stopping.Token);
    }
}

/// <summary>What a <see cref="TcpFaultProxy"/> does with traffic.</summary>
public enum ProxyMode
{
    Forward,
    Stall,
    Drop,
}
