using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Orders;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// The operator page (operator.html) in headless Chromium against a real replica and a real webhook
/// receiver that refuses the first deliveries: the dead letter shows with its last error, the retry
/// button delivers it, and the API key stays in the tab; a second room's dead letter is deleted from its
/// button once confirmed (never delivered), and retry-all says what it did. The page's 5 s refresh keeps a
/// focused button (the same element), and an older refresh answered after a newer one shows nothing. The driver is
/// tests/js/browser/operator.mjs.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class OperatorPageInChromiumTests
{
    private const int MaxAttempts = 2;

    [Fact]
    public async Task TheOperatorSeesADeadLetterWithItsLastErrorItsRetryButtonDeliversItAndDeleteRemovesAnother()
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: true, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        // The first room's record: refused MaxAttempts times, then its retry accepted; the second room's: refused, then deleted.
        stage.Receiver.Answers = n => n == MaxAttempts ? ReceiverAnswer.Ok : ReceiverAnswer.Reject;
        var result = await ChromiumDriver.RunAsync("operator.mjs", stage.Replicas[0].BaseUrl, stage.ApiKey);

        result.ExitCode.Should().Be(0, result.ToString());
        result.LastJsonLine!.Value.GetProperty("ok").GetBoolean().Should().BeTrue(result.ToString());
        stage.Receiver.All.Select(r => r.Answer).Should().Equal(
            ReceiverAnswer.Reject, ReceiverAnswer.Reject, ReceiverAnswer.Ok, ReceiverAnswer.Reject, ReceiverAnswer.Reject);
        stage.Receiver.All.Take(MaxAttempts + 1).Select(r => r.Body).Distinct().Should().ContainSingle("the retry sent the dead letter's body unchanged");
        stage.Receiver.All.Skip(MaxAttempts + 1).Select(r => r.OrderId).Distinct().Should().ContainSingle("the second room's two refused attempts, and nothing after its delete");
        stage.Receiver.All.Should().OnlyContain(r => r.SignatureValid);
    }
}
