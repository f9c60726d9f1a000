using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Delivers a room's channel messages to its local SignalR group. The backplane calls this in
/// channel (= version) order and it must not block: each group send is started, not awaited.
/// Per connection, SignalR serialises writes behind a FIFO lock, so order is kept, and one slow
/// member's full buffer delays only that member, never the room's other members.
/// </summary>
public sealed class RoomFanout(IHubContext<RoomHub, IRoomClient> hub, ILogger<RoomFanout> logger)
{
    public void Deliver(BackplaneMessage message)
    {
        var group = hub.Clients.Group(RoomGroups.For(message.RoomId));
        var send = message switch
        {
            RoomEventMessage e => group.RoomEvent(e.Event),
            PresenceMessage p => group.Presence(p.Change),
            _ => Task.CompletedTask,
        };
        Observe(send, message.RoomId);
    }

    public void SendPosition(string roomId, RoomPosition position) =>
        Observe(hub.Clients.Group(RoomGroups.For(roomId)).Position(new RoomPositionMessage(roomId, position.Epoch, position.Version)), roomId);

    private void Observe(Task send, string roomId)
    {
        if (send.IsCompletedSuccessfully)
        {
            return;
        }

        _ = send.ContinueWith(
            t => FanoutLog.DeliveryFailed(logger, roomId, t.Exception!),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
