namespace RoomShare.RoomServer.Tests.Contract.Parity;

internal enum ParityOpKind
{
    Join,
    Leave,
    SetChoice,
    AdjustChoice,
    Refresh,
    RemoveMember,
    SetRoomState,
    NewDevice,
    PostNotice,
    PutState,
    DeleteMember,
    ReadTrail,
    ReadOrder,
    ReadAsMember,
    DeleteRoom,
    SpareDevice,
}

/// <summary>Where a <c>Join</c>'s <c>since</c> points, resolved against each server's own room (its epoch and version).</summary>
internal enum SinceKind
{
    Null,
    Current,
    TwoBehind,
    PastHistory,
    Ahead,
    OtherEpoch,
    NotAnObject,
    NoVersion,
    NegativeVersion,
    TextVersion,
}

/// <summary>One step of a parity run, applied alike to both servers. <see cref="A"/>–<see cref="C"/> are the call's arguments as sent.</summary>
/// <remarks>
/// <see cref="JoinFirst"/>: a hub call by a device that is open and not in the room joins it first (<c>since</c> null), as a
/// client would. <see cref="FromSpare"/>: a hub call is made from the member's second device when it has one open.
/// </remarks>
internal sealed record ParityOp(int Index, ParityOpKind Kind, string Actor, object? A = null, object? B = null, object? C = null)
{
    public bool JoinFirst { get; init; }

    public bool FromSpare { get; init; }

    public override string ToString() =>
        $"#{Index} {Kind} by {Actor}{(FromSpare ? " (spare device if open)" : "")} ({Show(A)}, {Show(B)}, {Show(C)}){(JoinFirst ? " joining first" : "")}";

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => $"\"{(s.Length > 40 ? s[..40] + "…" : s)}\"",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };
}

/// <summary>
/// A seeded sequence of hub calls and API requests over one room, good and bad alike: the same seed gives the same
/// sequence, so a divergence found once is found again. Weighted toward choices; closing the room (final) only in
/// the last fifth and deleting it only in the last twentieth, so most of a run is spent on an open or locked room.
/// </summary>
internal static class ParityScript
{
    /// <summary>The members of a run and the role each one's first token has: two owners, three members.</summary>
    public static readonly IReadOnlyList<(string Member, string Role)> Members =
        [("own", "owner"), ("zoe", "owner"), ("ann", "member"), ("bob", "member"), ("cat", "member")];

    private static readonly object?[] MenuIds = ["pizza", "pasta", "cola", "pizza", "cola", "sushi", "", null, 7, "PIZZA"];
    // Only values both protocols write alike: a double such as 1e12 is an integer literal in JSON but a float in MessagePack.
    private static readonly object?[] Quantities = [0, 1, 2, 3, 1, 2, 89, 90, 91, -1, 2.5, "3", null, 1_000_000_000_000L, long.MaxValue, true];
    private static readonly object?[] Deltas = [1, 1, 2, -1, -2, 5, 0, -100, 200, 1.5, "1", null, int.MinValue];
    private static readonly object?[] States = ["open", "locked", "open", "locked", "bogus", "OPEN", null, 1];
    private static readonly object?[] RemovalTargets = ["ann", "bob", "cat", "zoe", "own", "nobody", "", "bad id!", null];
    private static readonly object?[] NoticePayloads = [null, "str", 12, "{\"minutes\":5}", "[1,2]", "big"];
    private static readonly object?[] BadOpIds = [7, "", "bad id!", new string('o', 65)];
    private static readonly object?[] TrailFroms = [1, 1, "behind", 0, -1, "x", "ahead"];
    private static readonly object?[] TrailLimits = [5, 100, 1000, 1001, 0, "many"];

    private static readonly (ParityOpKind Kind, int Weight)[] Weights =
    [
        (ParityOpKind.SetChoice, 20), (ParityOpKind.AdjustChoice, 15), (ParityOpKind.Join, 10), (ParityOpKind.Leave, 4),
        (ParityOpKind.Refresh, 4), (ParityOpKind.RemoveMember, 6), (ParityOpKind.SetRoomState, 6), (ParityOpKind.NewDevice, 7),
        (ParityOpKind.PostNotice, 6), (ParityOpKind.PutState, 4), (ParityOpKind.DeleteMember, 4), (ParityOpKind.ReadTrail, 5),
        (ParityOpKind.ReadOrder, 3), (ParityOpKind.ReadAsMember, 3), (ParityOpKind.SpareDevice, 5),
    ];

    public static IReadOnlyList<ParityOp> Generate(int seed, int count)
    {
        var random = new Random(seed);
        var ops = new List<ParityOp>(count);
        var opIds = new List<string>();
        var noticeKeys = new List<string>();
        var total = Weights.Sum(w => w.Weight);
        for (var i = 0; i < count; i++)
        {
            var pick = random.Next(total);
            var kind = Weights.First(w => (pick -= w.Weight) < 0).Kind;
            var actor = kind is ParityOpKind.RemoveMember or ParityOpKind.SetRoomState && random.Next(10) < 7
                ? Members[random.Next(2)].Member // an owner, mostly: their calls are the ones that can succeed
                : Members[random.Next(Members.Count)].Member;
            var late = i >= count * 4 / 5;
            var op = kind switch
            {
                ParityOpKind.Join => new ParityOp(i, kind, actor, (SinceKind)random.Next(Enum.GetValues<SinceKind>().Length)),
                ParityOpKind.SetChoice => new ParityOp(i, kind, actor, Pick(random, MenuIds), Pick(random, Quantities), OpId(random, opIds, i)),
                ParityOpKind.AdjustChoice => new ParityOp(i, kind, actor, Pick(random, MenuIds), Pick(random, Deltas), OpId(random, opIds, i)),
                ParityOpKind.RemoveMember or ParityOpKind.DeleteMember => new ParityOp(i, kind, actor, Pick(random, RemovalTargets)),
                ParityOpKind.PutState when i >= count * 19 / 20 && random.Next(3) == 0 => new ParityOp(i, ParityOpKind.DeleteRoom, actor),
                ParityOpKind.SetRoomState or ParityOpKind.PutState => new ParityOp(i, kind, actor, late && random.Next(3) == 0 ? "closed" : Pick(random, States)),
                ParityOpKind.NewDevice => new ParityOp(i, kind, actor, random.Next(6) == 0 ? "flipped" : "own role"),
                ParityOpKind.PostNotice => new ParityOp(i, kind, actor, Pick(random, NoticePayloads), NoticeKey(random, noticeKeys, i)),
                ParityOpKind.ReadTrail => new ParityOp(i, kind, actor, Pick(random, TrailFroms), Pick(random, TrailLimits)),
                ParityOpKind.ReadAsMember => new ParityOp(i, kind, actor, random.Next(2) == 0 ? "room" : "trail"),
                ParityOpKind.SpareDevice => new ParityOp(i, kind, actor, random.Next(2) == 0 ? "leave" : "drop"),
                _ => new ParityOp(i, kind, actor),
            };
            var joinFirst = random.Next(10) < 8;
            var fromSpare = random.Next(4) == 0;
            ops.Add(op with { JoinFirst = joinFirst && ChangesTheRoomThroughTheHub(kind), FromSpare = fromSpare && IsAHubCall(kind) });
        }

        return ops;
    }

    private static bool ChangesTheRoomThroughTheHub(ParityOpKind kind) => kind is ParityOpKind.SetChoice or ParityOpKind.AdjustChoice
        or ParityOpKind.Refresh or ParityOpKind.RemoveMember or ParityOpKind.SetRoomState;

    private static bool IsAHubCall(ParityOpKind kind) => ChangesTheRoomThroughTheHub(kind) || kind is ParityOpKind.Join or ParityOpKind.Leave;

    private static object? Pick(Random random, object?[] values) => values[random.Next(values.Length)];

    /// <summary>
    /// Mostly fresh; sometimes none, one used lately (a retry, or a reuse with other arguments), one from around the
    /// idempotency window's edge (30 opIds back in the contract server), or one that is not an id.
    /// </summary>
    private static object? OpId(Random random, List<string> used, int index)
    {
        var roll = random.Next(20);
        if (roll < 4)
        {
            return null;
        }

        if (roll < 8 && used.Count > 0)
        {
            return used[random.Next(Math.Max(0, used.Count - 5), used.Count)];
        }

        if (roll < 10 && used.Count > 25)
        {
            return used[used.Count - random.Next(25, Math.Min(used.Count, 36))];
        }

        if (roll == 10)
        {
            return Pick(random, BadOpIds);
        }

        var fresh = $"op-{index}";
        used.Add(fresh);
        return fresh;
    }

    private static string? NoticeKey(Random random, List<string> used, int index)
    {
        var roll = random.Next(4);
        if (roll == 0)
        {
            return null;
        }

        if (roll == 1 && used.Count > 0)
        {
            return used[random.Next(used.Count)];
        }

        var fresh = $"key-{index}";
        used.Add(fresh);
        return fresh;
    }
}
