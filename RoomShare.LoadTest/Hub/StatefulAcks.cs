using Microsoft.AspNetCore.SignalR.Protocol;

namespace RoomShare.LoadTest.Hub;

/// <summary>
/// What a connection with SignalR's stateful reconnect owes the server: acks for the invocation messages it received
/// (calls, completions, stream items), numbered from 1 as the server's replay buffer numbers what it sends; pings, acks,
/// sequence and close messages do not count. One receive loop counts; one caller at a time takes what is due.
/// </summary>
public sealed class StatefulAcks
{
    private long _received;
    private long _acked;
    private long _serverAcks;

    /// <summary>The last sequence id acked (0: none yet).</summary>
    public long AckedThrough => Volatile.Read(ref _acked);

    /// <summary>The acks the server sent for this connection's own calls.</summary>
    public long ServerAcks => Volatile.Read(ref _serverAcks);

    /// <summary>Counts a message the receive loop read.</summary>
    public void OnReceived(HubMessage message)
    {
        if (message is HubInvocationMessage)
        {
            Interlocked.Increment(ref _received);
        }
        else if (message is AckMessage)
        {
            Interlocked.Increment(ref _serverAcks);
        }
    }

    /// <summary>The sequence id to ack now, if anything came since the last ack; marks it acked.</summary>
    public bool TryTakeDue(out long through)
    {
        through = Volatile.Read(ref _received);
        return Interlocked.Exchange(ref _acked, through) < through;
    }
}
