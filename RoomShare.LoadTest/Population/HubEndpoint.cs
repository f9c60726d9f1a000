using RoomShare.LoadTest.Hub;

namespace RoomShare.LoadTest.Population;

/// <summary>
/// Where members connect (<c>ws://nginx/hubs/room</c>) and the one HTTP handler every WebSocket upgrade
/// shares, so thousands of connections do not each build their own handler.
/// </summary>
public sealed class HubEndpoint : IDisposable
{
    public HubEndpoint(Uri baseUrl, TimeSpan callTimeout, LeanHubWire wire, bool roomHint = false, bool webClient = false)
    {
        Wire = wire;
        RoomHint = roomHint;
        WebClient = webClient;
        Uri = new UriBuilder(baseUrl) { Scheme = "ws", Path = "/hubs/room" }.Uri;
        CallTimeout = callTimeout;
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseCookies = false,
            ConnectTimeout = callTimeout,
        });
    }

    public Uri Uri { get; }

    /// <summary>The hub protocol every member of the arm speaks.</summary>
    public LeanHubWire Wire { get; }

    /// <summary>Whether members name their room in the hub URL (<c>room=</c>), nginx's routing hint.</summary>
    public bool RoomHint { get; }

    /// <summary>
    /// Whether members connect as the reference web client does: negotiate with stateful reconnect first, then
    /// ack what they receive (<see cref="ConnectionSweep.Acks"/>).
    /// </summary>
    public bool WebClient { get; }

    public TimeSpan CallTimeout { get; }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}
