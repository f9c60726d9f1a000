using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>RoomServer:Limits and RoomServer:Jwt are nested: their ranges refuse start-up like the top level's.</summary>
public sealed class NestedOptionsValidationTests
{
    [Theory]
    [InlineData("RoomServer:Limits:ApiRequestsPerSecond", "0")]
    [InlineData("RoomServer:Limits:AnonymousApiRequestsPerSecond", "-1")]
    [InlineData("RoomServer:Limits:MaxMenuItems", "0")]

    // Above these no request could reach the limit: the API's body is at most 256 KiB.
    [InlineData("RoomServer:Limits:MaxMenuItems", "5001")]
    [InlineData("RoomServer:Limits:MaxNoticePayloadBytes", "250001")]
    [InlineData("RoomServer:Limits:MaxAnnouncementLength", "40001")]
    [InlineData("RoomServer:Limits:HubCallsPerSecond", "0")]
    [InlineData("RoomServer:Limits:MaxHubMessageBytes", "0")]

    // A long-polling client's messages are POST bodies, cut at 256 KiB: a larger limit would hold on a WebSocket only.
    [InlineData("RoomServer:Limits:MaxHubMessageBytes", "262145")]
    [InlineData("RoomServer:Jwt:TokenLifetimeMinutes", "-5")]
    [InlineData("RoomServer:Jwt:Issuer", "")]
    [InlineData("RoomServer:Jwt:Audience", " ")]
    public void ANestedSettingOutOfItsRangeRefusesStartUp(string setting, string value)
    {
        var read = () => OptionsWith(setting, value).Value;

        read.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain(setting.Split(':')[^1]);
    }

    [Fact]
    public void TheDefaultsPass()
    {
        var read = () => OptionsWith("RoomServer:Limits:MaxMenuItems", "200").Value;

        read.Should().NotThrow();
    }

    private static IOptions<RoomServerOptions> OptionsWith(string setting, string value)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RoomServer:ApiKeys:0"] = "nested-options-key-0123456789",
            ["RoomServer:Jwt:SigningKey"] = "nested-options-signing-key-0123456789-0123456789",
            [setting] = value,
        });
        builder.AddRoomServerOptions();
        return builder.Services.BuildServiceProvider().GetRequiredService<IOptions<RoomServerOptions>>();
    }
}
