using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>How <see cref="HubTestClient.ConnectAsync"/> builds its <see cref="HubConnection"/>. The defaults are the ones a real app uses against the cluster.</summary>
public sealed class HubTestClientOptions
{
    /// <summary>The server → client targets of DESIGN.md §3; each takes one argument.</summary>
    public static readonly IReadOnlyList<string> RoomTargets = ["RoomEvent", "Position", "Presence", "Removed", "Announcement"];

    private readonly Dictionary<string, int> _targets = RoomTargets.ToDictionary(t => t, _ => 1, StringComparer.Ordinal);

    public string Path { get; set; } = "/hubs/room";

    /// <summary>Bounds the whole start: negotiate (if any), the upgrade and the handshake.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// False (the default): WebSockets only with <c>SkipNegotiation</c>, which needs no affinity and
    /// resumes from any replica. True: negotiate first and take the transport the server offers, as
    /// the official clients do by default (through nginx, the affinity cookie keeps both on one replica).
    /// </summary>
    public bool Negotiate { get; set; }

    /// <summary>
    /// False (the default): the JSON hub protocol. True: the official MessagePack hub protocol with
    /// the server's JsonShapedResolver, so recorded messages are the same JSON shapes either way.
    /// </summary>
    public bool MessagePack { get; set; }

    /// <summary>
    /// True: the client asks for SignalR's stateful reconnect (with <see cref="Negotiate"/>): after a
    /// transport blip it resumes the same connection and the server replays what it missed.
    /// </summary>
    public bool StatefulReconnect { get; set; }

    /// <summary>Null (the default): no automatic reconnect; a dropped connection completes <see cref="HubTestClient.Closed"/>.</summary>
    public IRetryPolicy? Reconnect { get; set; }

    /// <summary>Anything else on the transport (headers, cookies, WebSocket options).</summary>
    public Action<HttpConnectionOptions>? ConfigureHttp { get; set; }

    /// <summary>The targets that will be recorded, with their argument counts.</summary>
    public IReadOnlyDictionary<string, int> Targets => _targets;

    /// <summary>
    /// Records one more server → client target (registered before the start, so nothing sent to it
    /// is missed). A target with one argument is recorded as that argument; with another count, as a
    /// JSON array of them.
    /// </summary>
    public HubTestClientOptions AddTarget(string target, int argumentCount = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentOutOfRangeException.ThrowIfNegative(argumentCount);
        _targets[target] = argumentCount;
        return this;
    }
}
