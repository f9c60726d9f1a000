using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>The parity script against a server on a Redis Cluster (sharded pub/sub, every write confirmed by a replica).</summary>
[Trait("Suite", "Contract")]
public sealed class RedisClusterStoreParityTests(EmbeddedContractServer embedded, RedisClusterContractServer cluster)
    : StoreParityTests(embedded, cluster), IClassFixture<EmbeddedContractServer>, IClassFixture<RedisClusterContractServer>;
