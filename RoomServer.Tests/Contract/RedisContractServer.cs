using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>Scaled mode: a real redis-server this fixture starts on a free loopback port and stops.</summary>
public class RedisContractServer : ContractServer
{
    public RedisServerProcess Redis { get; private set; } = null!;

    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
    {
        Redis = await RedisServerProcess.StartAsync();
        return new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = Redis.Endpoint,
            ["RoomServer:StoreTimeoutMilliseconds"] = "1500",
        };
    }

    protected override async Task StopBackingServicesAsync()
    {
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
