using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// RoomServer:ReplicaId (DESIGN §6): not blank and no ':' — it is a segment of the presence fields
/// (<c>c:REPLICA:CONNECTION</c>) and of the heartbeat channels, split on ':'.
/// </summary>
public sealed class ReplicaIdOptionsTests
{
    private static RoomServerOptions Options(string replicaId) => new()
    {
        ApiKeys = ["0123456789abcdef"],
        Jwt = { SigningKey = new string('k', 32) },
        ReplicaId = replicaId,
    };

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("r:1")]
    [InlineData(":")]
    public void ABlankIdOrOneWithAColonIsRefusedNamingTheSetting(string replicaId)
    {
        var result = new RoomServerOptionsValidator().Validate(null, Options(replicaId));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer:ReplicaId must be non-empty and contain no ':'.");
    }

    [Theory]
    [InlineData("r1")]
    [InlineData("roomserver-7f9c2b")] // a container id, compose's default
    [InlineData("replica.eu-west.3")]
    public void AnyOtherIdIsAccepted(string replicaId) =>
        new RoomServerOptionsValidator().Validate(null, Options(replicaId)).Succeeded.Should().BeTrue();
}
