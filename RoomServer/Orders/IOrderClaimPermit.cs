namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Whether this replica may start delivering rooms' order records now (<see cref="OrderDeliveryWorker"/>). A replica's
/// claims are held under its ReplicaId, so with Redis only the live process holding that id may claim
/// (<c>Redis.ReplicaIdGuard</c>); embedded mode is one process, always free to.
/// </summary>
public interface IOrderClaimPermit
{
    bool MayClaim { get; }
}

/// <summary>Embedded mode, and any set-up without a guard: one process holds its id.</summary>
public sealed class AlwaysMayClaim : IOrderClaimPermit
{
    public bool MayClaim => true;
}
