using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// The limits the Limits suite runs with: small, so each shows in a few calls. Every test makes its
/// own rooms and members (the member limits are per room). The rooms-per-key limit applies to every
/// key, so it runs on servers of its own (<see cref="RoomQuotaSettings"/>), with a key of its own.
/// </summary>
public static class LimitSettings
{
    // Slow refill: if each connection had a bucket of its own, two of them would pass twice the burst
    // long before one second's refill could blur the difference.
    public const int MemberOpsPerSecond = 1;
    public const int MemberOpsBurst = 5;
    public const int MaxMembersPerRoom = 3;
    public const int MaxConnectionsPerMember = 2;
    public const int MaxRoomsPerApiKey = 3;

    // Room for the tests that open a member's connections in a row (at most four at once, five in a
    // few seconds), and small enough that a test reaches each.
    public const int MaxOpenConnectionsPerMember = 5;
    public const int MemberConnectsPerSecond = 1;
    public const int MemberConnectBurst = 10;

    // No Limits test joins one member to a room more than five times (LeaveDuringSweepTests: four Joins and a refused
    // one in about two seconds), so this pace is never what they meet; MemberJoinRateTests runs its own, smaller.
    public const int MemberJoinsPerSecond = 1;
    public const int MemberJoinBurst = 10;

    // Small, so a dozen 3 KB notices pass it; above the options' floor (twice the largest notice event, 16 KiB here).
    public const int MaxPendingBytesPerConnection = 32 * 1024;

    public static readonly string QuotaApiKey = "quota-api-key-" + Guid.NewGuid().ToString("N");

    /// <summary>The Redis prune test's own key.</summary>
    public static readonly string PruneApiKey = "prune-api-key-" + Guid.NewGuid().ToString("N");

    /// <summary>The Idempotency-Key tests' own keys (each fills its limit or counts its rooms).</summary>
    public static readonly string IdempotentQuotaApiKey = "idem-quota-api-key-" + Guid.NewGuid().ToString("N");

    public static readonly string FailoverApiKey = "failover-api-key-" + Guid.NewGuid().ToString("N");

    public static readonly string UncountedApiKey = "uncounted-api-key-" + Guid.NewGuid().ToString("N");

    public static readonly string LostMarkApiKey = "lost-mark-api-key-" + Guid.NewGuid().ToString("N");

    /// <summary>The deletion-retry test's own key (it fills its limit).</summary>
    public static readonly string GoneRoomApiKey = "gone-room-api-key-" + Guid.NewGuid().ToString("N");

    /// <summary>The test of a keyed creation refused at the limit (it fills its limit).</summary>
    public static readonly string RefusedKeyApiKey = "refused-key-api-key-" + Guid.NewGuid().ToString("N");

    /// <summary>As configuration keys (in-process servers); <see cref="Environment"/> as variables (replica processes).</summary>
    public static Dictionary<string, string> Settings() => new()
    {
        ["RoomServer:Limits:MemberOpsPerSecond"] = MemberOpsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MemberOpsBurst"] = MemberOpsBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MaxMembersPerRoom"] = MaxMembersPerRoom.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MaxConnectionsPerMember"] = MaxConnectionsPerMember.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MaxOpenConnectionsPerMember"] = MaxOpenConnectionsPerMember.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MemberConnectsPerSecond"] = MemberConnectsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MemberConnectBurst"] = MemberConnectBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MemberJoinsPerSecond"] = MemberJoinsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MemberJoinBurst"] = MemberJoinBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MaxPendingBytesPerConnection"] = MaxPendingBytesPerConnection.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static Dictionary<string, string> RoomQuotaSettings() => new()
    {
        ["RoomServer:ApiKeys:1"] = QuotaApiKey,
        ["RoomServer:ApiKeys:2"] = PruneApiKey,
        ["RoomServer:ApiKeys:3"] = IdempotentQuotaApiKey,
        ["RoomServer:ApiKeys:4"] = FailoverApiKey,
        ["RoomServer:ApiKeys:5"] = UncountedApiKey,
        ["RoomServer:ApiKeys:6"] = LostMarkApiKey,
        ["RoomServer:ApiKeys:7"] = GoneRoomApiKey,
        ["RoomServer:ApiKeys:8"] = RefusedKeyApiKey,
        ["RoomServer:Limits:MaxRoomsPerApiKey"] = MaxRoomsPerApiKey.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static Dictionary<string, string> Environment() =>
        Settings().ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
}

/// <summary>Embedded mode with <see cref="LimitSettings"/>.</summary>
public class EmbeddedLimitsServer : ContractServer
{
    protected virtual Dictionary<string, string> Limits() => LimitSettings.Settings();

    protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(Limits());

    protected override Task StopBackingServicesAsync() => Task.CompletedTask;
}

/// <summary>Scaled mode with <see cref="LimitSettings"/>: its own redis-server on a free loopback port.</summary>
public class RedisLimitsServer : ContractServer
{
    public RedisServerProcess Redis { get; private set; } = null!;

    protected virtual Dictionary<string, string> Limits() => LimitSettings.Settings();

    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
    {
        Redis = await RedisServerProcess.StartAsync();
        var settings = Limits();
        settings["ConnectionStrings:Redis"] = Redis.Endpoint;
        settings["RoomServer:StoreTimeoutMilliseconds"] = "1500";
        return settings;
    }

    protected override async Task StopBackingServicesAsync()
    {
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}

/// <summary>Embedded mode with the rooms-per-key limit.</summary>
public sealed class EmbeddedRoomQuotaServer : EmbeddedLimitsServer
{
    protected override Dictionary<string, string> Limits() => LimitSettings.RoomQuotaSettings();
}

/// <summary>Scaled mode with the rooms-per-key limit.</summary>
public sealed class RedisRoomQuotaServer : RedisLimitsServer
{
    protected override Dictionary<string, string> Limits() => LimitSettings.RoomQuotaSettings();
}
