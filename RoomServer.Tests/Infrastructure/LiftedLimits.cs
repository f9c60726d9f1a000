namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// The write and request limits (README "Limits") raised out of reach, for the fixtures whose bursts and
/// writer loops measure the contract, the cluster or a fault — not the limits, which Limits/ tests.
/// One list, so a limit added later is lifted everywhere at once (a fixture that missed one saw its
/// writers answered rate_limited).
/// </summary>
public static class LiftedLimits
{
    private static readonly (string Name, string Value)[] Limits =
    [
        ("MemberOpsPerSecond", "100000"),
        ("MemberOpsBurst", "100000"),
        ("MaxConnectionsPerMember", "100"),
        ("MaxOpenConnectionsPerMember", "10000"),
        ("MemberConnectsPerSecond", "100000"),
        ("MemberConnectBurst", "100000"),
        ("MemberJoinsPerSecond", "100000"),
        ("MemberJoinBurst", "100000"),
        ("ApiRequestsPerSecond", "1000000"),
        ("ApiRequestBurst", "1000000"),
        ("AnonymousApiRequestsPerSecond", "1000000"),
    ];

    /// <summary>As environment variables of a replica process (<c>RoomServer__Limits__…</c>).</summary>
    public static IEnumerable<KeyValuePair<string, string>> AsEnvironment() =>
        Limits.Select(l => KeyValuePair.Create("RoomServer__Limits__" + l.Name, l.Value));

    /// <summary>As configuration keys of an in-process server (<c>RoomServer:Limits:…</c>).</summary>
    public static IEnumerable<KeyValuePair<string, string>> AsConfiguration() =>
        Limits.Select(l => KeyValuePair.Create("RoomServer:Limits:" + l.Name, l.Value));
}
