using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A room's outbox holds at most <c>RoomServer__Limits__MaxUnsettledOrderRecords</c> records not yet delivered or
/// dead-lettered (DESIGN.md §6, §8): with the restaurant's endpoint failing, an owner toggling lock and open at the
/// write rate grew it — each record a whole order — for as long as the room lived. A state change that would write one
/// more is <c>rate_limited</c>, naming the limit, and changes nothing; once the records are delivered the room's state
/// changes again. Embedded and Redis modes alike.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class UnsettledOrderRecordsTests
{
    private const int MaxUnsettled = 3;
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AStateChangePastTheUnsettledRecordsLimitIsRateLimitedAndChangesNothingUntilTheyAreDelivered(bool embedded)
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: embedded, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Limits__MaxUnsettledOrderRecords"] = MaxUnsettled.ToString(CultureInfo.InvariantCulture),
            ["RoomServer__Webhooks__MaxAttempts"] = "100",
        });
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        var refusing = true;
        stage.Receiver.Answers = _ => Volatile.Read(ref refusing) ? ReceiverAnswer.ServerError : ReceiverAnswer.Ok;

        // locked, open, locked: three records, none delivered.
        var versions = new List<long>();
        foreach (var state in new[] { "locked", "open", "locked" })
        {
            versions.Add(await stage.SetStateAsync(replica, roomId, state));
        }

        using var api = stage.Api(replica);
        using (var refused = await api.PutAsJsonAsync($"/api/rooms/{roomId}/state", new { state = "open" }))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
            var problem = (await refused.Content.ReadFromJsonAsync<ProblemBody>())!;
            problem.Code.Should().Be(RoomErrorCodes.RateLimited);
            problem.Detail.Should().Contain($"{MaxUnsettled} order records").And.Contain("MaxUnsettledOrderRecords", "the message names the limit (DESIGN §5)");
        }

        var room = await stage.GetJsonAsync(replica, $"/api/rooms/{roomId}");
        room.GetProperty("state").GetString().Should().Be("locked", "the refused change changed nothing");
        room.GetProperty("version").GetInt64().Should().Be(versions[^1]);
        VersionsOf(await stage.GetJsonAsync(replica, $"/api/rooms/{roomId}/order")).Should().Equal(versions, "no record was written for it");

        // The current state again writes no record: still answered.
        (await stage.SetStateAsync(replica, roomId, "locked")).Should().Be(versions[^1]);

        // The endpoint answers again: the records are delivered, and the room's state changes again.
        Volatile.Write(ref refusing, false);
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).All(d => d.GetProperty("status").GetString() == "delivered"), Delivery);
        var reopened = await stage.SetStateAsync(replica, roomId, "open");
        reopened.Should().Be(versions[^1] + 1);
    }

    private static List<long> VersionsOf(JsonElement order) =>
        [.. order.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("version").GetInt64())];
}
