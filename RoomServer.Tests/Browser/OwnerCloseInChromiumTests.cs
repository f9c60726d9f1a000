using RoomShare.RoomServer.Tests.Orders;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// The owner's close in headless Chromium against a real replica whose webhook endpoint refuses connections, with at most
/// one unsettled order record a room: the close after a lock is refused while the lock's record is on its way (the page
/// says the restaurant has not received the earlier order), and once that record is dead-lettered the owner confirms
/// the close again from the same page — its confirm button had stayed disabled after the refusal. The driver is
/// tests/js/browser/owner-close.mjs.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class OwnerCloseInChromiumTests
{
    [Fact]
    public async Task ACloseRefusedWhileTheOrderIsOnItsWayCanBeConfirmedAgainOnceItIsDealtWith()
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: true, startReceiver: false, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Limits__MaxUnsettledOrderRecords"] = "1",
            // Refused connections, retried for a few seconds: long enough for the page to be refused, short for the test.
            ["RoomServer__Webhooks__MaxAttempts"] = "5",
            ["RoomServer__Webhooks__RetryBaseDelayMilliseconds"] = "1000",
        });

        var result = await ChromiumDriver.RunAsync("owner-close.mjs", stage.Replicas[0].BaseUrl, stage.ApiKey);

        result.ExitCode.Should().Be(0, result.ToString());
        result.LastJsonLine!.Value.GetProperty("ok").GetBoolean().Should().BeTrue(result.ToString());
    }
}
