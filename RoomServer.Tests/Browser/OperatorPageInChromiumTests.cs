using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Orders;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// The operator page (operator.html) in headless Chromium against a real replica and a real webhook
/// receiver that refuses the first deliveries: the dead letter shows with its last error, the retry
/// button delivers it, and the API key stays in the tab. The driver is tests/js/browser/operator.mjs.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class OperatorPageInChromiumTests
{
    private const int MaxAttempts = 2;

    [Fact]
    public async Task TheOperatorSeesADeadLetterWithItsLastErrorAndItsRetryButtonDeliversIt()
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: true, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        stage.Receiver.Answers = n => n < MaxAttempts ? ReceiverAnswer.Reject : ReceiverAnswer.Ok;
        var screenshots = Path.Combine(RepoPaths.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(screenshots);

        var result = await NodeScript.RunAsync("browser/operator.mjs", new Dictionary<string, string>
        {
            ["BASE_URL"] = stage.Replicas[0].BaseUrl.ToString().TrimEnd('/'),
            ["API_KEY"] = stage.ApiKey,
            ["SCREENSHOT_DIR"] = screenshots,
            ["CHROMIUM"] = RequiredTool.Resolve("chromium"),
        }, TimeSpan.FromSeconds(120));

        result.ExitCode.Should().Be(0, result.ToString());
        result.LastJsonLine!.Value.GetProperty("ok").GetBoolean().Should().BeTrue(result.ToString());
        stage.Receiver.All.Select(r => r.Answer).Should().Equal(ReceiverAnswer.Reject, ReceiverAnswer.Reject, ReceiverAnswer.Ok);
        stage.Receiver.All.Select(r => r.Body).Distinct().Should().ContainSingle("the retry sent the dead letter's body unchanged");
        stage.Receiver.All.Should().OnlyContain(r => r.SignatureValid);
    }
}
