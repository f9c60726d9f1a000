namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// The operation history of one chaos test: every write a client attempted, in the order the
/// attempts ended, with what the client learned of its fate. Written by many client loops at once;
/// read by <see cref="HistoryChecker"/> once they have stopped.
/// </summary>
public sealed class History
{
    private readonly List<OpRecord> _ops = [];
    private readonly List<string> _secrets = [];
    private long _sequence;

    public IReadOnlyList<OpRecord> Ops
    {
        get
        {
            lock (_ops)
            {
                return [.. _ops];
            }
        }
    }

    /// <summary>Tokens, API keys and signing keys handed out during the test: none may reach a log.</summary>
    public IReadOnlyList<string> Secrets
    {
        get
        {
            lock (_secrets)
            {
                return [.. _secrets];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_ops)
            {
                return _ops.Count;
            }
        }
    }

    public OpRecord Record(string client, string roomId, string memberId, string method, string menuId, int value, string opId, string? replica, OpOutcome outcome)
    {
        lock (_ops)
        {
            var op = new OpRecord(++_sequence, client, roomId, memberId, method, menuId, value, opId, replica, outcome);
            _ops.Add(op);
            return op;
        }
    }

    public void AddSecret(string secret)
    {
        lock (_secrets)
        {
            _secrets.Add(secret);
        }
    }

    /// <summary>"ok=N failed(code)=N unknown=N", for test output.</summary>
    public string Summary() =>
        string.Join(", ", Ops.GroupBy(o => o.Outcome.Describe(withDetail: false)).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}"));
}

/// <summary>
/// One attempted write. <see cref="Method"/> is the hub method (<c>SetChoice</c> or <c>AdjustChoice</c>),
/// <see cref="Value"/> its quantity or delta; <see cref="Replica"/> the replica the client believed it
/// was talking to (from its last Join), or null.
/// </summary>
public sealed record OpRecord(
    long Seq,
    string Client,
    string RoomId,
    string MemberId,
    string Method,
    string MenuId,
    int Value,
    string OpId,
    string? Replica,
    OpOutcome Outcome)
{
    /// <summary>"member:opId": the field of <c>rs:{room}:ops</c> that remembers this op's result.</summary>
    public string OpKey => $"{MemberId}:{OpId}";

    public override string ToString() =>
        $"#{Seq} {Client} {Method}({RoomId}, {MenuId}, {Value}, {OpId}) via {Replica ?? "?"} → {Outcome.Describe(withDetail: true)}";
}

public enum OpOutcomeKind
{
    /// <summary>The server acknowledged the write with a version and a quantity.</summary>
    Ok,

    /// <summary>The server refused the write with a code that means it was not applied.</summary>
    Failed,

    /// <summary>
    /// The client cannot know: no answer in time, the connection broke, or <c>unavailable</c> (a
    /// store deadline can pass after Redis ran the script, so it may have been applied).
    /// </summary>
    Unknown,
}

/// <summary>What one attempted write's client learned.</summary>
public sealed record OpOutcome(OpOutcomeKind Kind, long Version = 0, int Quantity = 0, string? Code = null)
{
    public static OpOutcome Ok(long version, int quantity) => new(OpOutcomeKind.Ok, version, quantity);

    public static OpOutcome Failed(string code) => new(OpOutcomeKind.Failed, Code: code);

    public static OpOutcome Unknown(string why) => new(OpOutcomeKind.Unknown, Code: why);

    public string Describe(bool withDetail) => Kind switch
    {
        OpOutcomeKind.Ok => withDetail ? $"ok(v{Version}, q{Quantity})" : "ok",
        OpOutcomeKind.Failed => $"failed({Code})",
        _ => withDetail ? $"unknown({Code})" : "unknown",
    };
}
