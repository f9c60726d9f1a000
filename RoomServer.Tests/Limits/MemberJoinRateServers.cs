using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// Servers for <see cref="MemberJoinRateTests"/>: the Join pace of its own (every other limit lifted, as the
/// contract suite's), and a store that counts its Joins per room and member.
/// </summary>
public static class MemberJoinRateServers
{
    public static Dictionary<string, string> Settings() => new()
    {
        ["RoomServer:Limits:MemberJoinsPerSecond"] = MemberJoinRateTests.PerSecond.ToString(CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MemberJoinBurst"] = MemberJoinRateTests.Burst.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Counts <see cref="IRoomStore.JoinAsync"/> calls; the real store answers them.</summary>
    public sealed class JoinCounter
    {
        private readonly ConcurrentDictionary<(string, string), int> _joins = new();

        public int Joins(string roomId, string memberId) => _joins.GetValueOrDefault((roomId, memberId));

        public void Decorate(IServiceCollection services) => RoomStoreInterceptor.Decorate(services, (_, method, args) =>
        {
            if (method.Name == nameof(IRoomStore.JoinAsync) && args[0] is JoinRequest join)
            {
                _joins.AddOrUpdate((join.RoomId, join.MemberId), 1, static (_, n) => n + 1);
            }

            return null;
        });
    }

    public sealed class Embedded : EmbeddedLimitsServer, MemberJoinRateTests.ICountingServer
    {
        private readonly JoinCounter _counter = new();

        public ContractServer Server => this;

        public int Joins(string roomId, string memberId) => _counter.Joins(roomId, memberId);

        protected override Dictionary<string, string> Limits() => Settings();

        protected override void ConfigureServices(IServiceCollection services) => _counter.Decorate(services);
    }

    public sealed class Redis : RedisLimitsServer, MemberJoinRateTests.ICountingServer
    {
        private readonly JoinCounter _counter = new();

        public ContractServer Server => this;

        public int Joins(string roomId, string memberId) => _counter.Joins(roomId, memberId);

        protected override Dictionary<string, string> Limits() => Settings();

        protected override void ConfigureServices(IServiceCollection services) => _counter.Decorate(services);
    }
}

[Trait("Suite", "Limits")]
public sealed class EmbeddedMemberJoinRateTests(MemberJoinRateServers.Embedded server)
    : MemberJoinRateTests(server), IClassFixture<MemberJoinRateServers.Embedded>;

[Trait("Suite", "Limits")]
public sealed class RedisMemberJoinRateTests(MemberJoinRateServers.Redis server)
    : MemberJoinRateTests(server), IClassFixture<MemberJoinRateServers.Redis>;
