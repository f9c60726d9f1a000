using RoomShare.RoomServer.Redis;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// failover.lua runs at every room subscription on a cluster (and in every re-check pass); its write is
/// confirmed with WAIT only when it renewed the epoch — unchanged, there is nothing of its own to wait for.
/// </summary>
public sealed class FailoverEpochsReplyTests
{
    [Fact]
    public void OnlyARenewedEpochIsAWriteToConfirm()
    {
        FailoverEpochs.Renewed(Reply("ok", "e2", "7", "renewed")).Should().BeTrue();
        FailoverEpochs.Renewed(Reply("ok", "e1", "7", "same")).Should().BeFalse();
        FailoverEpochs.Renewed(Reply("room_not_found")).Should().BeFalse();
    }

    private static RedisResult Reply(params string[] items) =>
        RedisResult.Create([.. items.Select(i => RedisResult.Create((RedisValue)i))]);
}
