namespace RoomShare.RoomServer.Configuration;

public static class TransportTuning
{
    /// <summary>
    /// Kestrel's socket transport, tuned for a fan-out server: with
    /// <c>RoomServer:Transport:InlineScheduling</c> the socket's continuations run inline instead of
    /// being queued to the thread pool — one hop fewer per write of every delivered event. Safe here
    /// because nothing on the connection path blocks (every store call and send is asynchronous).
    /// </summary>
    public static WebApplicationBuilder AddTransportTuning(this WebApplicationBuilder builder)
    {
        var inline = builder.Configuration.GetValue("RoomServer:Transport:InlineScheduling", false);
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = inline);
        return builder;
    }
}
