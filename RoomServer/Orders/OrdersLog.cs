namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Order hand-off logs. Never a webhook secret: endpoints are logged by their redacted URL only
/// (<see cref="Logging.EndpointRedaction"/>: no user-info, a query as <c>?*</c>).
/// </summary>
internal static partial class OrdersLog
{
    [LoggerMessage(6001, LogLevel.Information, "Order {OrderId} ({Type}) delivered to {Endpoint} after {Attempts} attempt(s)")]
    public static partial void Delivered(ILogger logger, string orderId, string type, string endpoint, int attempts);

    [LoggerMessage(6002, LogLevel.Warning, "Order {OrderId} to {Endpoint}: attempt {Attempts} failed: {Error}")]
    public static partial void Retrying(ILogger logger, string orderId, string endpoint, int attempts, string error);

    [LoggerMessage(6003, LogLevel.Error, "Order {OrderId} to {Endpoint} dead-lettered after {Attempts} attempt(s): {Error}")]
    public static partial void DeadLettered(ILogger logger, string orderId, string endpoint, int attempts, string error);

    [LoggerMessage(6004, LogLevel.Warning, "Order outbox of room {RoomId}: {Error} (retried on the next poll)")]
    public static partial void RoomFailed(ILogger logger, string roomId, string error, Exception? exception);

    [LoggerMessage(6005, LogLevel.Warning, "Order outbox poll failed: {Error}")]
    public static partial void PollFailed(ILogger logger, string error, Exception? exception);

    [LoggerMessage(6013, LogLevel.Warning, "Order outbox sweep failed: {Error} (tried again at the next sweep interval)")]
    public static partial void SweepFailed(ILogger logger, string error, Exception? exception);

    [LoggerMessage(6008, LogLevel.Warning, "Order delivery: {Rooms} rooms in delivery on this replica, the most it takes; more wait for a room to finish (an endpoint failing for long?)")]
    public static partial void RoomsCapped(ILogger logger, int rooms);

    [LoggerMessage(6009, LogLevel.Error, "Order outbox of room {RoomId}: record {EntryId} cannot be read here and has been claimed {Claims} times ({Error}): {Endpoints} dead letter(s) written, one per endpoint it was for, and the room's later records go on")]
    public static partial void UnreadableRecord(ILogger logger, string roomId, string entryId, long claims, string error, int endpoints, Exception exception);

    [LoggerMessage(6010, LogLevel.Warning, "Order outbox of room {RoomId}: record {EntryId} cannot be read here ({Error}); left for another replica (claim {Claims} of {MostClaims})")]
    public static partial void UnreadableHere(ILogger logger, string roomId, string entryId, string error, long claims, int mostClaims);

    [LoggerMessage(6011, LogLevel.Warning, "Order outbox of room {RoomId}: this replica no longer holds its claim on {OrderId} (it could not renew it in time, and another replica took the record over or the claim was lost); it stops delivering it")]
    public static partial void ClaimLost(ILogger logger, string roomId, string orderId);

    [LoggerMessage(6012, LogLevel.Warning, "Order outbox of room {RoomId}: {OrderId} was done with here, but another replica took it over before this one could settle it (this one could not renew its claim in time); the new holder may deliver it again (at least once)")]
    public static partial void SettleLost(ILogger logger, string roomId, string orderId);

    [LoggerMessage(6014, LogLevel.Information, "Dead letter {DeadLetterId} deleted by an operator: it will not be delivered")]
    public static partial void DeadLetterDeleted(ILogger logger, string deadLetterId);

    [LoggerMessage(6015, LogLevel.Warning, "Order outbox of room {RoomId}: could not confirm that a Redis replica holds its next record (the store said: {Error}); it was not delivered, and is claimed again once this replica's claim lapses ({ClaimTimeoutSeconds} s)")]
    public static partial void ClaimNotConfirmed(ILogger logger, string roomId, string error, int claimTimeoutSeconds);

    [LoggerMessage(6016, LogLevel.Warning, "Dead letter {DeadLetterId} was put back into room {RoomId}'s outbox, but the room could not be indexed for the workers ({Error}); the retry stands, and the record is delivered once a worker finds the room (this replica's at once, any replica's sweep within SweepIntervalSeconds)")]
    public static partial void RetriedNotIndexed(ILogger logger, string deadLetterId, string roomId, string error);

    [LoggerMessage(6017, LogLevel.Warning, "Order outbox of room {RoomId}: the claim on {OrderId} could not be renewed ({Error}); tried again every {RetryMilliseconds} ms until a renewal lands (logged once a run)")]
    public static partial void RenewalFailed(ILogger logger, string roomId, string orderId, string error, double retryMilliseconds);

    [LoggerMessage(6007, LogLevel.Information, "Order delivery: {Count} webhook endpoint(s), up to {MaxAttempts} attempts of {TimeoutSeconds} s each")]
    public static partial void Started(ILogger logger, int count, int maxAttempts, int timeoutSeconds);

    [LoggerMessage(6018, LogLevel.Warning, "Order outbox: another live process holds this replica's ReplicaId, and its claims pass for this one's; this process stops delivering order records (room {RoomId} first) and leaves them to that one until it holds the id again")]
    public static partial void PermitLost(ILogger logger, string roomId);
}
