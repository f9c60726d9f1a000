using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>Join(since) replays up to HistoryLength events from the audit trail: a shorter trail refuses to start.</summary>
public sealed class AuditLengthOptionsTests
{
    private static RoomServerOptions Options(int historyLength, int auditLength) => new()
    {
        ApiKeys = ["0123456789abcdef"],
        Jwt = { SigningKey = new string('k', 32) },
        ReplicaId = "r1",
        HistoryLength = historyLength,
        AuditLength = auditLength,
    };

    [Fact]
    public void AnAuditLengthShorterThanTheHistoryIsRefusedNamingTheSetting()
    {
        var result = new RoomServerOptionsValidator().Validate(null, Options(historyLength: 500, auditLength: 499));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer:AuditLength must be at least RoomServer:HistoryLength");
    }

    [Fact]
    public void AnAuditLengthAsLongAsTheHistoryIsAccepted()
    {
        new RoomServerOptionsValidator().Validate(null, Options(historyLength: 500, auditLength: 500)).Succeeded.Should().BeTrue();
        new RoomServerOptions().AuditLength.Should().BeGreaterThanOrEqualTo(new RoomServerOptions().HistoryLength, "the defaults are valid together");
    }
}
