using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// The checker itself, on hand-made evidence: a consistent run passes, and each property fails on
/// evidence that breaks exactly it — so a green chaos test means the checks ran and could have failed.
/// </summary>
public sealed class HistoryCheckerTests
{
    private const string Room = "R1";
    private const string Epoch = "e1";
    private const string Token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0NTY3OA";

    [Fact]
    public void AConsistentRunHasNoViolation()
    {
        HistoryChecker.Check(Valid()).Should().BeEmpty();
    }

    [Fact]
    public void AnAcknowledgedOpThatRedisDoesNotRememberIsReported()
    {
        var evidence = Valid();
        var room = evidence.Rooms[0];
        var ops = new Dictionary<string, string>(room.Ops, StringComparer.Ordinal);
        ops.Remove("b:b-1");

        Violations(evidence with { Rooms = [room with { Ops = ops }] })
            .Should().ContainSingle(v => v.Property == HistoryProperty.AcknowledgedPresent && v.Detail.Contains("b-1", StringComparison.Ordinal));
    }

    [Fact]
    public void AnAckThatDiffersFromWhatRedisRemembersOrBeyondTheFinalVersionIsReported()
    {
        var evidence = Valid();
        var ops = evidence.Ops.Select(o => o.OpId == "a-1" ? o with { Outcome = OpOutcome.Ok(9, 2) } : o).ToList();

        Violations(evidence with { Ops = ops }).Where(v => v.Property == HistoryProperty.AcknowledgedPresent)
            .Should().HaveCount(3, "v9 is beyond the room's v5, Redis remembers 3:2, and the op's event is v3");
    }

    [Fact]
    public void ARefusedOpThatLeftATraceIsReported()
    {
        var evidence = Valid();
        var room = evidence.Rooms[0];
        var ops = new Dictionary<string, string>(room.Ops, StringComparer.Ordinal) { ["b:b-2"] = "5:1" };

        Violations(evidence with { Rooms = [room with { Ops = ops }] })
            .Should().ContainSingle(v => v.Property == HistoryProperty.FailedNotApplied && v.Detail.Contains("b-2", StringComparison.Ordinal));
    }

    [Fact]
    public void ARefusedOpWhoseOpIdWasRetriedSuccessfullyIsNotBlamedForTheRetry()
    {
        var evidence = Valid();

        // b-1 refused first (e.g. rate_limited), then retried under the same opId and acknowledged.
        var refused = new OpRecord(0, "b", Room, "b", "SetChoice", "cola", 3, "b-1", "r1", OpOutcome.Failed("rate_limited"));

        HistoryChecker.Check(evidence with { Ops = [refused, .. evidence.Ops] }).Should().BeEmpty();
    }

    [Fact]
    public void AnUnknownOpAppliedTwiceIsReported()
    {
        var evidence = Valid();
        var room = evidence.Rooms[0];
        var events = room.Events.Append(Choice(6, "a", "pizza", 6, "a-3")).Append(Choice(7, "a", "pizza", 7, "a-3")).ToList();
        var choices = new Dictionary<string, int>(room.Choices, StringComparer.Ordinal) { ["a:pizza"] = 7 };
        var final = room with { Version = 7, Events = events, Choices = choices, Ops = new Dictionary<string, string>(room.Ops, StringComparer.Ordinal) { ["a:a-3"] = "6:6" }, Snapshots = [] };

        Violations(evidence with { Rooms = [final], Clients = [] })
            .Should().ContainSingle(v => v.Property == HistoryProperty.AppliedAtMostOnce && v.Detail.Contains("applied 2 times", StringComparison.Ordinal));
    }

    [Fact]
    public void TwoDifferentAcksOfOneOpIdAreReported()
    {
        var evidence = Valid();
        var second = new OpRecord(99, "a-device-2", Room, "a", "SetChoice", "pizza", 2, "a-1", "r2", OpOutcome.Ok(4, 2));

        Violations(evidence with { Ops = [.. evidence.Ops, second] })
            .Should().Contain(v => v.Property == HistoryProperty.AppliedAtMostOnce && v.Detail.Contains("acknowledged differently", StringComparison.Ordinal));
    }

    [Fact]
    public void AGapInTheRoomsHistoryIsReported()
    {
        var evidence = Valid();
        var room = evidence.Rooms[0];

        Violations(evidence with { Rooms = [room with { Events = room.Events.Where(e => e.Version != 2).ToList() }] })
            .Should().Contain(v => v.Property == HistoryProperty.VersionsDense && v.Detail.Contains("v1 then v3", StringComparison.Ordinal));
    }

    [Fact]
    public void AClientThatSkippedOrRepeatedAVersionIsReported()
    {
        var evidence = Valid();
        var skipped = evidence.Clients[0] with { Applied = [1, 2, 4, 5] };
        var repeated = evidence.Clients[1] with { Applied = [2, 3, 3, 4, 5] };

        Violations(evidence with { Clients = [skipped, repeated] }).Where(v => v.Property == HistoryProperty.VersionsDense)
            .Should().HaveCount(2);
    }

    [Fact]
    public void ChoicesThatTheHistoryDoesNotExplainAreReported()
    {
        var evidence = Valid();
        var room = evidence.Rooms[0];
        var choices = new Dictionary<string, int>(room.Choices, StringComparer.Ordinal) { ["b:pizza"] = 1 };

        Violations(evidence with { Rooms = [room with { Choices = choices, Snapshots = [] }], Clients = [] })
            .Should().ContainSingle(v => v.Property == HistoryProperty.StateReplaysHistory && v.Detail.Contains("b:pizza", StringComparison.Ordinal));
    }

    [Fact]
    public void AClientBehindOrWithOtherChoicesAndAStaleSnapshotAreReported()
    {
        var evidence = Valid();
        var behind = evidence.Clients[0] with { Version = 4, Applied = [1, 2, 3, 4] };
        var other = evidence.Clients[1] with { Choices = new Dictionary<string, int>(StringComparer.Ordinal) { ["a:pizza"] = 5 } };
        var room = evidence.Rooms[0];
        var stale = room.Snapshots[0] with { Snapshot = room.Snapshots[0].Snapshot with { Version = 4 } };

        Violations(evidence with { Clients = [behind, other], Rooms = [room with { Snapshots = [stale] }] })
            .Where(v => v.Property == HistoryProperty.ClientsConverge).Should().HaveCount(3);
    }

    [Fact]
    public void TotalsThatAreNotChoicesTimesPriceAreReported()
    {
        var evidence = Valid();
        var room = evidence.Rooms[0];
        var snapshot = room.Snapshots[0].Snapshot;
        var wrong = snapshot with
        {
            Totals = [new SnapshotTotal("pizza", 5, 5750), new SnapshotTotal("cola", 3, 901)],
            TotalMinor = 6651,
        };

        Violations(evidence with { Rooms = [room with { Snapshots = [new SnapshotView("r1", wrong)] }] })
            .Where(v => v.Property == HistoryProperty.TotalsMatch).Should().HaveCount(2, "cola's amount and the total are off");
    }

    [Fact]
    public void ATokenOrItsSignatureInALogIsReported()
    {
        var evidence = Valid();
        var signature = Token.Split('.')[2];
        var logs = new List<LogText>
        {
            new("r1", $"info: Joined ?access_token={Token} from 127.0.0.1"),
            new("r2", $"warn: bad signature {signature}"),
            new("r3", "info: nothing to see"),
        };

        Violations(evidence with { Logs = logs }).Where(v => v.Property == HistoryProperty.NoSecretInLogs)
            .Select(v => v.Detail[..2]).Should().Equal("r1", "r2");
    }

    [Fact]
    public void ALogThatLostItsHeadIsReportedAsUnscanned()
    {
        var evidence = Valid();
        var log = new OutputLog(maxChars: 64);
        log.Append($"info: Joined ?access_token={Token} from 127.0.0.1");
        log.Append("info: and then a long line that pushes the head out of the bound");
        var logs = new List<LogText> { new("r1", log.ToString()), new("r2", "info: nothing to see") };

        Violations(evidence with { Logs = logs }).Where(v => v.Property == HistoryProperty.NoSecretInLogs)
            .Should().ContainSingle("r1's head, with the token in it, is gone").Which.Detail.Should().StartWith("r1 lost its head");
    }

    private static IReadOnlyList<Violation> Violations(HistoryEvidence evidence) => HistoryChecker.Check(evidence);

    private static RoomEvent Choice(long version, string member, string menu, int quantity, string opId) =>
        new(Room, Epoch, version, RoomEventTypes.Choice, "2026-01-01T00:00:00Z", MemberId: member, MenuId: menu, Quantity: quantity, OpId: opId);

    /// <summary>
    /// Members a and b; a sets 2 pizza (a-1) and adjusts +3 (a-2), b sets 3 cola (b-1); b's second op
    /// was refused (room_locked) and a's third is unknown (timed out, not applied).
    /// </summary>
    private static HistoryEvidence Valid()
    {
        var events = new List<RoomEvent>
        {
            new(Room, Epoch, 1, RoomEventTypes.Member, "2026-01-01T00:00:00Z", MemberId: "a", DisplayName: "A"),
            new(Room, Epoch, 2, RoomEventTypes.Member, "2026-01-01T00:00:00Z", MemberId: "b", DisplayName: "B"),
            Choice(3, "a", "pizza", 2, "a-1"),
            Choice(4, "b", "cola", 3, "b-1"),
            Choice(5, "a", "pizza", 5, "a-2"),
        };
        var ops = new List<OpRecord>
        {
            new(1, "a", Room, "a", "SetChoice", "pizza", 2, "a-1", "r1", OpOutcome.Ok(3, 2)),
            new(2, "b", Room, "b", "SetChoice", "cola", 3, "b-1", "r2", OpOutcome.Ok(4, 3)),
            new(3, "a", Room, "a", "AdjustChoice", "pizza", 3, "a-2", "r1", OpOutcome.Ok(5, 5)),
            new(4, "b", Room, "b", "SetChoice", "cola", 1, "b-2", "r2", OpOutcome.Failed("room_locked")),
            new(5, "a", Room, "a", "SetChoice", "pizza", 6, "a-3", "r1", OpOutcome.Unknown("client-timeout")),
        };
        var choices = new Dictionary<string, int>(StringComparer.Ordinal) { ["a:pizza"] = 5, ["b:cola"] = 3 };
        var prices = new Dictionary<string, long>(StringComparer.Ordinal) { ["pizza"] = 1150, ["cola"] = 300 };
        var snapshot = new RoomSnapshot(
            Room, "Table", Epoch, 5, "open",
            [new MenuItem("pizza", "Pizza", 1150), new MenuItem("cola", "Cola", 300)],
            [new SnapshotMember("a", "A", true), new SnapshotMember("b", "B", true)],
            [new SnapshotChoice("a", "pizza", 5), new SnapshotChoice("b", "cola", 3)],
            [new SnapshotTotal("pizza", 5, 5750), new SnapshotTotal("cola", 3, 900)],
            6650,
            MaxQuantity: 99,
            PresenceSeq: 2);
        var room = new RoomFinalState(
            Room, 5, events,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["a:a-1"] = "3:2", ["b:b-1"] = "4:3", ["a:a-2"] = "5:5" },
            choices, prices, [new SnapshotView("r1", snapshot)]);
        var clients = new List<ClientView>
        {
            new("a", Room, 0, 5, [1, 2, 3, 4, 5], choices),
            new("b", Room, 1, 5, [2, 3, 4, 5], choices),
        };
        return new HistoryEvidence(ops, [room], clients, [Token, "api-key-123456"], [new LogText("r1", "info: started")]);
    }
}
