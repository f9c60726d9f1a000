using System.Threading.Channels;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// The store tells this replica's worker about a transition right after its script ran, so the record
/// leaves at once instead of at the next poll; the worker then indexes the room for the other replicas.
/// If this replica dies first, the periodic sweep finds the outbox (nothing is lost, only later).
/// </summary>
public sealed class OrderOutboxSignal
{
    private readonly Channel<string> _rooms = Channel.CreateBounded<string>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    public void Notify(string roomId) => _rooms.Writer.TryWrite(roomId);

    internal ChannelReader<string> Rooms => _rooms.Reader;
}
