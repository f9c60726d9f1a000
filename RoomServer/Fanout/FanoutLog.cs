namespace RoomShare.RoomServer.Fanout;

internal static partial class FanoutLog
{
    [LoggerMessage(2001, LogLevel.Debug, "Subscribed room {RoomId} (first local member)")]
    public static partial void Subscribed(ILogger logger, string roomId);

    [LoggerMessage(2002, LogLevel.Debug, "Unsubscribed room {RoomId} (last local member left)")]
    public static partial void Unsubscribed(ILogger logger, string roomId);

    [LoggerMessage(2003, LogLevel.Warning, "Delivering to room {RoomId} failed")]
    public static partial void DeliveryFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(2004, LogLevel.Debug, "Tick of room {RoomId} failed: {Code}")]
    public static partial void TickFailed(ILogger logger, string roomId, string code);

    [LoggerMessage(2010, LogLevel.Error, "Tick of room {RoomId} failed unexpectedly")]
    public static partial void TickCrashed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(2005, LogLevel.Information, "Backplane restored: sending positions to {Count} rooms")]
    public static partial void SendingPositionsAfterRestore(ILogger logger, int count);

    [LoggerMessage(2006, LogLevel.Information, "Closing connection {ConnectionId} of member {MemberId}, removed from room {RoomId}")]
    public static partial void ClosingRemoved(ILogger logger, string connectionId, string memberId, string roomId);

    [LoggerMessage(2007, LogLevel.Warning, "Connection {ConnectionId} in room {RoomId} fell {PendingBytes} bytes behind: closed for a resync (the client resumes with Join(since))")]
    public static partial void SlowConsumerResync(ILogger logger, string connectionId, string roomId, long pendingBytes);

    [LoggerMessage(2008, LogLevel.Information, "Draining: /readyz fails, new connections and calls are refused; closing {Count} connections within {DrainSeconds} s")]
    public static partial void Draining(ILogger logger, int count, int drainSeconds);

    [LoggerMessage(2009, LogLevel.Information, "Drained: {Count} connections closed in {Milliseconds} ms, {Open} still open (left to the shutdown)")]
    public static partial void Drained(ILogger logger, int count, int open, long milliseconds);

    // One line a batch: the drain's pace by its own clock, which the clients' view of their closes (late when they are busy) is not.
    [LoggerMessage(2015, LogLevel.Information, "Drain batch {Batch} of {Batches}: {Count} connections asked to close at {Milliseconds} ms")]
    public static partial void DrainBatch(ILogger logger, int batch, int batches, int count, long milliseconds);

    [LoggerMessage(2011, LogLevel.Information, "Removal catch-up after re-subscribing: {Members} members held here checked with the store, {Closed} connections of removed members closed, {Unanswered} lookups unanswered")]
    public static partial void RemovalCatchUp(ILogger logger, int members, int closed, int unanswered);

    [LoggerMessage(2012, LogLevel.Error, "Removal catch-up failed unexpectedly; the next re-subscription runs it again")]
    public static partial void RemovalCatchUpCrashed(ILogger logger, Exception exception);

    [LoggerMessage(2013, LogLevel.Information, "Removal catch-up retried the lookups left unanswered: {Members} members still held here, {Closed} connections of removed members closed, {Unanswered} still unanswered")]
    public static partial void RemovalCatchUpRetried(ILogger logger, int members, int closed, int unanswered);

    [LoggerMessage(2014, LogLevel.Information, "The Removed notice to connection {ConnectionId} of room {RoomId} was not written before its close; closed all the same")]
    public static partial void RemovedNoticeNotWritten(ILogger logger, string connectionId, string roomId, Exception exception);
}
