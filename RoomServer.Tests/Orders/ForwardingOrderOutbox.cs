using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>An outbox that hands every call to <paramref name="inner"/>; a test overrides the one it stages a race in.</summary>
internal abstract class ForwardingOrderOutbox(IOrderOutbox inner) : IOrderOutbox
{
    protected IOrderOutbox Inner { get; } = inner;

    public virtual Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count) => Inner.RoomsWithWorkAsync(count);

    public virtual Task<long> AnnounceAsync(string roomId) => Inner.AnnounceAsync(roomId);

    public virtual Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout) => Inner.ClaimNextAsync(roomId, consumer, claimTimeout);

    public virtual Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer) => Inner.KeepClaimAsync(entry, consumer);

    public virtual Task<bool> SetDeliveryAsync(OutboxEntry entry, string consumer, string endpoint, EndpointDelivery delivery) => Inner.SetDeliveryAsync(entry, consumer, endpoint, delivery);

    public virtual Task DeadLetterAsync(DeadLetter letter) => Inner.DeadLetterAsync(letter);

    public virtual Task<bool> SettleAsync(OutboxEntry entry, string consumer) => Inner.SettleAsync(entry, consumer);

    public virtual Task ForgetAsync(OutboxRoom room) => Inner.ForgetAsync(room);

    public virtual Task SweepAsync(CancellationToken cancellationToken) => Inner.SweepAsync(cancellationToken);

    public virtual Task<IReadOnlyList<StoredOrderRecord>> RecordsAsync(string roomId) => Inner.RecordsAsync(roomId);

    public virtual Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(string? after, int limit) => Inner.DeadLettersAsync(after, limit);

    public virtual Task<DeadLetter?> FindDeadLetterAsync(string deadLetterId) => Inner.FindDeadLetterAsync(deadLetterId);

    public virtual Task<string?> RetryAsync(string deadLetterId) => Inner.RetryAsync(deadLetterId);

    public virtual Task<bool> DeleteDeadLetterAsync(string deadLetterId) => Inner.DeleteDeadLetterAsync(deadLetterId);
}
