using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// An outbox for delivery-worker tests that never hands out a record: nothing to deliver, nothing to
/// settle, no dead letters. A test overrides the members its case is about (what a claim finds, a sweep).
/// </summary>
internal abstract class IdleOrderOutbox : IOrderOutbox
{
    public virtual Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count) => Task.FromResult<IReadOnlyList<OutboxRoom>>([]);

    public virtual Task<long> AnnounceAsync(string roomId) => Task.FromResult(1L);

    public virtual Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout) => Task.FromResult(OutboxClaim.Empty);

    public virtual Task ForgetAsync(OutboxRoom room) => Task.CompletedTask;

    public virtual Task SweepAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer) => throw new InvalidOperationException("nothing is claimed");

    public Task<bool> SetDeliveryAsync(OutboxEntry entry, string consumer, string endpoint, EndpointDelivery delivery) => throw new InvalidOperationException("nothing is claimed");

    public Task DeadLetterAsync(DeadLetter letter) => throw new InvalidOperationException("nothing is claimed");

    public Task<bool> SettleAsync(OutboxEntry entry, string consumer) => throw new InvalidOperationException("nothing is claimed");

    public Task<IReadOnlyList<StoredOrderRecord>> RecordsAsync(string roomId) => Task.FromResult<IReadOnlyList<StoredOrderRecord>>([]);

    public Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(string? after, int limit) => Task.FromResult<IReadOnlyList<DeadLetter>>([]);

    public Task<DeadLetter?> FindDeadLetterAsync(string deadLetterId) => Task.FromResult<DeadLetter?>(null);

    public Task<string?> RetryAsync(string deadLetterId) => Task.FromResult<string?>(null);

    public Task<bool> DeleteDeadLetterAsync(string deadLetterId) => Task.FromResult(false);
}
