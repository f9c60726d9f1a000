using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A store deadline too short for confirmed writes (DESIGN.md §2: WAIT within the deadline) refuses
/// start-up when ReplicasToAcknowledge is set explicitly; unset, the server decides (a Redis Cluster:
/// RedisCluster/ConfirmedWriteDeadlineTests).
/// </summary>
public sealed class ConfirmedWriteDeadlineTests
{
    [Theory]
    [InlineData(1, 499)]
    [InlineData(2, 50)]
    public void AnExplicitReplicaCountWithTooShortADeadlineFailsNamingBothSettings(int replicas, int deadline)
    {
        var result = new RedisOptionsValidator().Validate(null, Options(replicas, deadline));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer__StoreTimeoutMilliseconds to 500 or more")
            .And.Contain("RoomServer__Redis__ReplicasToAcknowledge")
            .And.Contain($"is {deadline}");
    }

    [Theory]
    [InlineData(1, 500)]
    [InlineData(0, 50)]
    [InlineData(null, 50)]
    public void EnoughTimeNoConfirmationOrAnUnsetCountPass(int? replicas, int deadline) =>
        new RedisOptionsValidator().Validate(null, Options(replicas, deadline)).Succeeded.Should().BeTrue();

    [Fact]
    public void TheMinimumLeavesAConfirmedWriteTimeBeyondItsWaitMarginAndItsReshardAllowance()
    {
        // The minimum and its message are written from these margins: a margin that grows must move them.
        var margins = RedisConnection.WaitMargin + RedisConnection.WaitAllowance;
        (margins.TotalMilliseconds + 200).Should().BeLessThanOrEqualTo(RedisOptions.MinimumConfirmedDeadlineMilliseconds,
            "200 ms at least for the script and its replication");
        RedisOptions.DeadlineTooShort(1, 300).Should().Contain($"WAIT ends {RedisConnection.WaitMargin.TotalMilliseconds:0} ms before the deadline")
            .And.Contain($"resends {RedisConnection.WaitAllowance.TotalMilliseconds:0} ms before that");
    }

    private static RoomServerOptions Options(int? replicas, int deadline) =>
        new() { StoreTimeoutMilliseconds = deadline, Redis = new RedisOptions { ReplicasToAcknowledge = replicas } };
}
