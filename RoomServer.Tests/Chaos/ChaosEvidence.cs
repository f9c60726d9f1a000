using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>Reads what <see cref="HistoryChecker"/> judges straight from Redis, every live replica and the logs.</summary>
public static class ChaosEvidence
{
    public static async Task<HistoryEvidence> GatherAsync(ChaosFixture cluster, History history, IEnumerable<TestRoom> rooms, IEnumerable<ChaosClient> clients)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(history);
        var prices = ContractServer.Menu.ToDictionary(m => m.Id, m => m.PriceMinor, StringComparer.Ordinal);
        var finals = new List<RoomFinalState>();
        foreach (var room in rooms)
        {
            var snapshots = new List<SnapshotView>();
            foreach (var replica in cluster.Replicas.Where(r => !r.HasExited))
            {
                snapshots.Add(new SnapshotView($"GET /api/rooms/{room.Id} on {replica.ReplicaId}", await cluster.SnapshotAsync(room, replica)));
            }

            var ops = await cluster.Redis.ExecuteListAsync("HGETALL", $"rs:{{{room.Id}}}:ops");
            var remembered = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < ops.Count; i += 2)
            {
                remembered[ops[i]!] = ops[i + 1]!;
            }

            finals.Add(new RoomFinalState(
                room.Id,
                await cluster.RedisVersionAsync(room),
                await cluster.RedisEventsAsync(room),
                remembered,
                await cluster.RedisChoicesAsync(room),
                prices,
                snapshots));
        }

        return new HistoryEvidence(history.Ops, finals, clients.Select(c => c.View()).ToList(), history.Secrets, cluster.LogTexts());
    }
}
