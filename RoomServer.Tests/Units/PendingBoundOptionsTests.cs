using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A frame larger than <c>MaxPendingBytesPerConnection</c> counts as waiting the moment it is written (SignalR's
/// pipe holds any frame past 64 KiB until the socket takes it), so a bound below the largest room event would
/// drop every member of a room to a resync on one notice: start-up refuses a bound under twice the largest notice event.
/// </summary>
public sealed class PendingBoundOptionsTests
{
    [Theory]
    [InlineData(4096, 500, 16 * 1024, true)] // the default notice at the smallest bound: 2 × (4 096 + 4 096)
    [InlineData(100_000, 500, 64 * 1024, false)] // one 100 KB notice would drop everyone
    [InlineData(100_000, 500, 208_191, false)]
    [InlineData(100_000, 500, 208_192, true)] // 2 × (100 000 + 4 096)
    [InlineData(4096, 40_000, 16 * 1024, true)] // announcements go to connections, not through a room's pending count
    public void ABoundBelowTwiceTheLargestRoomEventRefusesToStart(int noticeBytes, int announcementLength, int pendingBytes, bool accepted)
    {
        var options = new RoomServerOptions
        {
            ApiKeys = ["0123456789abcdef"],
            Jwt = { SigningKey = new string('k', 32) },
            ReplicaId = "r1",
            Limits = { MaxNoticePayloadBytes = noticeBytes, MaxAnnouncementLength = announcementLength, MaxPendingBytesPerConnection = pendingBytes },
        };

        var result = new RoomServerOptionsValidator().Validate(null, options);

        result.Succeeded.Should().Be(accepted, result.FailureMessage);
        if (!accepted)
        {
            result.FailureMessage.Should().Contain("RoomServer:Limits:MaxPendingBytesPerConnection must be at least");
        }
    }

    [Fact]
    public void TheDefaultsAreValidTogether() =>
        new RoomServerOptionsValidator().Validate(null, new RoomServerOptions { ApiKeys = ["0123456789abcdef"], Jwt = { SigningKey = new string('k', 32) }, ReplicaId = "r1" })
            .Succeeded.Should().BeTrue();
}
