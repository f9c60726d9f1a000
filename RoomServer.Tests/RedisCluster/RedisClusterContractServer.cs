using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// Scaled mode on a Redis Cluster (3 masters + 3 replicas this fixture starts and kills): the
/// connection string names all six nodes, and everything else is left to the defaults a cluster
/// gets — sharded pub/sub on, one replica acknowledging every write.
/// </summary>
public sealed class RedisClusterContractServer : ContractServer
{
    public RedisClusterProcess Cluster { get; private set; } = null!;

    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
    {
        Cluster = await RedisClusterProcess.StartAsync();
        return new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = Cluster.ConnectionString,
            ["RoomServer:StoreTimeoutMilliseconds"] = "1500",
        };
    }

    protected override async Task StopBackingServicesAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}
