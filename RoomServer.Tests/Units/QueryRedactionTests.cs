using RoomShare.RoomServer.Logging;

namespace RoomShare.RoomServer.Tests.Units;

public sealed class QueryRedactionTests
{
    [Theory]
    [InlineData("?id=abc&access_token=eyJ.x.y", "?id=abc&access_token=[redacted]")]
    [InlineData("?access_token=eyJ.x.y&id=abc", "?access_token=[redacted]&id=abc")]
    [InlineData("?ACCESS_TOKEN=eyJ", "?ACCESS_TOKEN=[redacted]")]
    [InlineData("?access%5Ftoken=eyJ", "?access%5Ftoken=[redacted]")]
    [InlineData("?access_token", "?access_token=[redacted]")]
    [InlineData("?access_token=a&access_token=b", "?access_token=[redacted]&access_token=[redacted]")]
    [InlineData("?negotiateVersion=1", "?negotiateVersion=1")]
    [InlineData("?token_hint=access_token", "?token_hint=access_token")]
    [InlineData("", "")]
    public void OnlyTheAccessTokenValueIsReplaced(string query, string logged) => QueryRedaction.Redact(query).Should().Be(logged);
}
