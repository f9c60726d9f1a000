using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Hubs.MessagePack;

namespace RoomShare.RoomServer.Hubs;

public static class HubExtensions
{
    public const string Path = "/hubs/room";

    /// <summary>
    /// A send to a connection's transport that takes longer closes the connection (SignalR's own default, named
    /// here because RoomShare relies on it): a client that pings but never reads, in a quiet room, never queues
    /// the bytes that drop a slow consumer, and while its socket is full SignalR's Redis backplane waits for its
    /// write of each announcement before the next. This bounds that wait (DESIGN.md §9 "Slow consumers").
    /// </summary>
    public static readonly TimeSpan TransportSendTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// What SignalR keeps of a stateful-reconnect connection's messages until its client acknowledges them. Past it,
    /// SignalR waits for an acknowledgement before any further write to the connection, its close message included, and
    /// a connection closed in that state never finishes closing: its disconnect never runs, and its lease, its place
    /// under the member's caps and every later room message written to it stay (Limits/UnacknowledgingMemberTests).
    /// SignalR's default, 100 000 bytes, is what a page that stops acknowledging (its script frozen, a phone's screen
    /// off, while the browser still takes the socket's data) is owed within a minute or two in a busy room; its room
    /// messages then queue, and its slow-consumer drop, removal or drain never completes. 8 MiB is tens of minutes of a
    /// busy room's traffic, and the messages held are the room's own frames, shared with its other members. Not more:
    /// SignalR walks its list of kept messages on every write, and a client that never acknowledges at all still
    /// reaches the bound in the end — then the hang is SignalR's, which no setting lifts.
    /// </summary>
    public const long StatefulReconnectBufferBytes = 8L * 1024 * 1024;

    /// <summary>
    /// SignalR with the room hub's filter and limits, user ids per room member, plus the fan-out that
    /// feeds it. Clients choose JSON (text) or MessagePack (binary, the official protocol) at the
    /// handshake; both carry the same camelCase shapes (JsonShapedResolver).
    /// </summary>
    public static WebApplicationBuilder AddRoomHub(this WebApplicationBuilder builder)
    {
        builder.Services.AddSignalR(o => o.EnableDetailedErrors = false)
        .AddMessagePackProtocol(o => o.SerializerOptions = JsonShapedResolver.Options)
        .RefuseUnknownMessageTypes();
        builder.Services.AddOptions<HubOptions>()
            .Configure<IOptions<RoomServerOptions>>((hub, room) =>
            {
                hub.MaximumReceiveMessageSize = room.Value.Limits.MaxHubMessageBytes;
                hub.StatefulReconnectBufferSize = StatefulReconnectBufferBytes;
            });

        // The filters are singletons, added as instances: AddFilter<T> would wrap each in SignalR's
        // HubFilterFactory, which looks it up in the call's scope and awaits it, an allocation per filter per call.
        // Outermost first: a call on an expired token is refused before anything else runs.
        builder.Services.AddOptions<HubOptions>()
            .Configure<ExpiredTokenFilter, MemberConnectionCap, HubCallLogScope, RoomHubFilter>((hub, expiredToken, connectionCap, logScope, roomFilter) =>
            {
                hub.AddFilter(expiredToken);
                hub.AddFilter(connectionCap);
                hub.AddFilter(logScope);
                hub.AddFilter(roomFilter);
            });
        builder.Services.AddSingleton<RoomHubFilter>();
        builder.Services.AddSingleton<ExpiredTokenFilter>();
        builder.Services.AddSingleton<MemberConnectionCap>();
        builder.Services.AddSingleton<MemberConnectRate>();
        builder.Services.AddSingleton<NotJoinedCheckRate>();
        builder.Services.AddSingleton<MemberJoinRate>();
        builder.Services.AddSingleton<HubCallLogScope>();
        builder.Services.AddHubOrigins();
        builder.Services.AddSingleton<IUserIdProvider, RoomUsers>();
        builder.Services.AddSingleton<MemberRemover>();
        builder.Services.AddSingleton<HeldConnections>();
        builder.Services.AddRoomFanout();
        return builder;
    }

    public static IEndpointRouteBuilder MapRoomHub(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<RoomServerOptions>>().Value;
        app.MapHub<RoomHub>(Path, o =>
        {
            // A token that expires closes the connection (the client reconnects with a fresh one).
            o.CloseOnAuthenticationExpiration = true;

            // A client that asks for it resumes its connection after a transport blip on the same
            // replica, with what it missed replayed — no Join(since) resync (Hubs/StatefulReconnectTests).
            o.AllowStatefulReconnects = options.StatefulReconnect;

            o.TransportSendTimeout = TransportSendTimeout;
        })
        // The API's rate limits leave the hub alone anyway (its partition has no limiter; the hub has its own
        // limits). Saying so keeps the rate-limiting middleware out of a hub request altogether: a connection's
        // request lasts as long as the connection, and the middleware's async frame and lease would stay alive
        // all that time.
        .DisableRateLimiting();
        return app;
    }
}
