using System.Globalization;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// The cluster of <see cref="ClusterFixture"/> (redis-server, r1..r3, nginx) shaped for the chaos
/// battery: r3 reaches Redis through a <see cref="TcpFaultProxy"/> (<see cref="CutOffReplicaId"/>),
/// so one replica alone can lose Redis; the audit trail and the idempotency window are long enough that the
/// checker sees every event and every remembered op of a run; quantities may grow far (concurrent
/// increments of one item). Each chaos test class takes its own instance.
/// </summary>
public sealed class ChaosFixture : ClusterFixture
{
    /// <summary>The replica whose Redis link runs through <see cref="RedisProxy"/>.</summary>
    public const string CutOffReplicaId = "r3";

    public const int MaxQuantity = 10_000;

    public TcpFaultProxy RedisProxy { get; private set; } = null!;

    /// <summary>What every replica and nginx wrote so far, one entry per source, for the checker's secret scan.</summary>
    public IReadOnlyList<LogText> LogTexts()
    {
        var logs = Replicas.Select(r => new LogText($"{r.ReplicaId} (pid {r.Pid}) output", r.Output)).ToList();
        foreach (var path in new[] { Nginx.AccessLogPath, Nginx.ErrorLogPath })
        {
            logs.Add(new LogText(path, File.Exists(path) ? ReadShared(path) : string.Empty));
        }

        logs.Add(new LogText("redis-server output", Redis.Output));
        return logs;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (RedisProxy is not null)
        {
            await RedisProxy.DisposeAsync();
        }
    }

    protected override Task BeforeReplicasAsync()
    {
        RedisProxy = TcpFaultProxy.Start(Redis.Port);
        return Task.CompletedTask;
    }

    protected override void Configure(string replicaId, Dictionary<string, string> settings)
    {
        if (replicaId == CutOffReplicaId)
        {
            settings["ConnectionStrings__Redis"] = RedisProxy.Endpoint;
        }

        // The checker replays each room from v1 and finds every acknowledged opId remembered.
        settings["RoomServer__HistoryLength"] = "100000";
        settings["RoomServer__AuditLength"] = "100000"; // the checker reads each room's events from its audit trail
        settings["RoomServer__IdempotencyWindow"] = "1000000";
        settings["RoomServer__MaxQuantity"] = MaxQuantity.ToString(CultureInfo.InvariantCulture);
        // The contract menu's few items: with the large MaxQuantity, the default 200 would let a full room's total
        // overflow totalMinor, which start-up refuses.
        settings["RoomServer__Limits__MaxMenuItems"] = "10";
    }

    /// <summary>nginx keeps its logs open for writing; read them without asking for exclusive access.</summary>
    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
