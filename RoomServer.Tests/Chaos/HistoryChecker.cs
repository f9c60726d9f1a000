using System.Globalization;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// Judges a chaos test's <see cref="HistoryEvidence"/> against the promises of DESIGN.md §2 and §9
/// (see <see cref="HistoryProperty"/>). Returns every violation rather than the first, so one failed
/// run tells the whole story. Pure: no processes, no clock.
/// </summary>
public static class HistoryChecker
{
    public static IReadOnlyList<Violation> Check(HistoryEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var violations = new List<Violation>();
        var rooms = evidence.Rooms.ToDictionary(r => r.RoomId, StringComparer.Ordinal);
        foreach (var op in evidence.Ops)
        {
            if (!rooms.ContainsKey(op.RoomId))
            {
                violations.Add(new(HistoryProperty.AcknowledgedPresent, $"{op}: the evidence has no final state of room {op.RoomId}"));
            }
        }

        foreach (var room in evidence.Rooms)
        {
            var ops = evidence.Ops.Where(o => o.RoomId == room.RoomId).ToList();
            CheckAcknowledged(room, ops, violations);
            CheckFailed(room, ops, violations);
            CheckAtMostOnce(room, ops, violations);
            CheckRoomDense(room, violations);
            CheckReplay(room, violations);
            CheckSnapshots(room, violations);
        }

        foreach (var client in evidence.Clients)
        {
            if (!rooms.TryGetValue(client.RoomId, out var room))
            {
                violations.Add(new(HistoryProperty.ClientsConverge, $"{client.Client}: the evidence has no final state of room {client.RoomId}"));
                continue;
            }

            CheckClient(client, room, violations);
        }

        CheckLogs(evidence.Secrets, evidence.Logs, violations);
        return violations;
    }

    /// <summary>One line per violation (at most <paramref name="limit"/>), for an assertion message.</summary>
    public static string Describe(IReadOnlyList<Violation> violations, int limit = 40) =>
        violations.Count == 0
            ? "no violation"
            : $"{violations.Count} violation(s):\n" + string.Join('\n', violations.Take(limit)) + (violations.Count > limit ? $"\n... and {violations.Count - limit} more" : string.Empty);

    private static void CheckAcknowledged(RoomFinalState room, List<OpRecord> ops, List<Violation> violations)
    {
        foreach (var op in ops.Where(o => o.Outcome.Kind == OpOutcomeKind.Ok))
        {
            var ack = $"{op.Outcome.Version.ToString(CultureInfo.InvariantCulture)}:{op.Outcome.Quantity.ToString(CultureInfo.InvariantCulture)}";
            if (op.Outcome.Version > room.Version)
            {
                violations.Add(new(HistoryProperty.AcknowledgedPresent, $"{op}: acknowledged at v{op.Outcome.Version}, but the room ended at v{room.Version}"));
            }

            if (!room.Ops.TryGetValue(op.OpKey, out var remembered))
            {
                violations.Add(new(HistoryProperty.AcknowledgedPresent, $"{op}: its result is not remembered in rs:{{{room.RoomId}}}:ops"));
            }
            else if (remembered != ack)
            {
                violations.Add(new(HistoryProperty.AcknowledgedPresent, $"{op}: acknowledged as {ack}, remembered as {remembered}"));
            }

            foreach (var e in EventsOf(room, op))
            {
                if (e.Version != op.Outcome.Version || e.Quantity != op.Outcome.Quantity)
                {
                    violations.Add(new(HistoryProperty.AcknowledgedPresent, $"{op}: its event is v{e.Version} quantity {e.Quantity}, not the ack's"));
                }
            }
        }
    }

    private static void CheckFailed(RoomFinalState room, List<OpRecord> ops, List<Violation> violations)
    {
        foreach (var op in ops.Where(o => o.Outcome.Kind == OpOutcomeKind.Failed))
        {
            // A retry under the same opId that was (or may have been) applied explains a trace.
            if (ops.Any(o => o.OpKey == op.OpKey && o.Outcome.Kind != OpOutcomeKind.Failed))
            {
                continue;
            }

            if (room.Ops.TryGetValue(op.OpKey, out var remembered))
            {
                violations.Add(new(HistoryProperty.FailedNotApplied, $"{op}: refused, yet its result {remembered} is remembered"));
            }

            foreach (var e in EventsOf(room, op))
            {
                violations.Add(new(HistoryProperty.FailedNotApplied, $"{op}: refused, yet event v{e.Version} carries its opId"));
            }
        }
    }

    private static void CheckAtMostOnce(RoomFinalState room, List<OpRecord> ops, List<Violation> violations)
    {
        var applied = room.Events.Where(e => e.Type == RoomEventTypes.Choice && e.OpId is not null)
            .GroupBy(e => $"{e.MemberId}:{e.OpId}", StringComparer.Ordinal);
        foreach (var twice in applied.Where(g => g.Count() > 1))
        {
            var attempts = ops.Where(o => o.OpKey == twice.Key).ToList();
            violations.Add(new(HistoryProperty.AppliedAtMostOnce,
                $"op {twice.Key} in room {room.RoomId} was applied {twice.Count()} times (v{string.Join(", v", twice.Select(e => e.Version))}); attempts: [{string.Join("; ", attempts)}]"));
        }

        foreach (var acks in ops.Where(o => o.Outcome.Kind == OpOutcomeKind.Ok).GroupBy(o => o.OpKey, StringComparer.Ordinal))
        {
            if (acks.Select(o => (o.Outcome.Version, o.Outcome.Quantity)).Distinct().Count() > 1)
            {
                violations.Add(new(HistoryProperty.AppliedAtMostOnce, $"op {acks.Key} in room {room.RoomId} was acknowledged differently: [{string.Join("; ", acks)}]"));
            }
        }
    }

    private static void CheckRoomDense(RoomFinalState room, List<Violation> violations)
    {
        var versions = room.Events.Select(e => e.Version).ToList();
        var expected = Range(1, room.Version);
        if (!versions.SequenceEqual(expected))
        {
            violations.Add(new(HistoryProperty.VersionsDense,
                $"room {room.RoomId}: history holds {Versions(versions)}, not v1..v{room.Version} each once"));
        }

        var epochs = room.Events.Select(e => e.Epoch).Distinct(StringComparer.Ordinal).ToList();
        if (epochs.Count > 1)
        {
            violations.Add(new(HistoryProperty.VersionsDense, $"room {room.RoomId}: history spans epochs {string.Join(", ", epochs)}"));
        }
    }

    private static void CheckReplay(RoomFinalState room, List<Violation> violations)
    {
        var replayed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in room.Events.OrderBy(e => e.Version))
        {
            if (e.Type == RoomEventTypes.Choice)
            {
                var field = $"{e.MemberId}:{e.MenuId}";
                if (e.Quantity is null or 0)
                {
                    replayed.Remove(field);
                }
                else
                {
                    replayed[field] = e.Quantity.Value;
                }
            }
            else if (e.Type == RoomEventTypes.MemberRemoved)
            {
                foreach (var field in replayed.Keys.Where(k => k.StartsWith(e.MemberId + ":", StringComparison.Ordinal)).ToList())
                {
                    replayed.Remove(field);
                }
            }
        }

        if (Difference(replayed, room.Choices) is { } difference)
        {
            violations.Add(new(HistoryProperty.StateReplaysHistory, $"room {room.RoomId}: replaying the history gives other choices than Redis holds: {difference}"));
        }
    }

    private static void CheckSnapshots(RoomFinalState room, List<Violation> violations)
    {
        foreach (var (source, snapshot) in room.Snapshots)
        {
            var choices = snapshot.Choices.ToDictionary(c => $"{c.MemberId}:{c.MenuId}", c => c.Quantity, StringComparer.Ordinal);
            if (snapshot.Version != room.Version || Difference(choices, room.Choices) is not null)
            {
                violations.Add(new(HistoryProperty.ClientsConverge,
                    $"room {room.RoomId}: the snapshot from {source} is v{snapshot.Version} with {Difference(choices, room.Choices) ?? "the same choices"}, not Redis's v{room.Version}"));
            }

            CheckTotals(room, source, snapshot, violations);
        }
    }

    private static void CheckTotals(RoomFinalState room, string source, RoomSnapshot snapshot, List<Violation> violations)
    {
        var expected = room.Choices.Where(c => c.Value > 0)
            .GroupBy(c => c.Key[(c.Key.IndexOf(':', StringComparison.Ordinal) + 1)..], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(c => c.Value), StringComparer.Ordinal);
        var totals = snapshot.Totals.ToDictionary(t => t.MenuId, StringComparer.Ordinal);
        foreach (var (menuId, quantity) in expected)
        {
            if (!room.Prices.TryGetValue(menuId, out var price))
            {
                violations.Add(new(HistoryProperty.TotalsMatch, $"room {room.RoomId}: a choice of {menuId}, which is not on the menu"));
                continue;
            }

            if (!totals.TryGetValue(menuId, out var total) || total.Quantity != quantity || total.AmountMinor != quantity * price)
            {
                violations.Add(new(HistoryProperty.TotalsMatch,
                    $"room {room.RoomId} ({source}): {menuId} totals {(total is null ? "absent" : $"{total.Quantity} / {total.AmountMinor}")}, expected {quantity} × {price} = {quantity * price}"));
            }
        }

        foreach (var extra in totals.Keys.Except(expected.Keys, StringComparer.Ordinal))
        {
            violations.Add(new(HistoryProperty.TotalsMatch, $"room {room.RoomId} ({source}): a total for {extra}, which nobody chose"));
        }

        var totalMinor = expected.Sum(e => room.Prices.GetValueOrDefault(e.Key) * e.Value);
        if (snapshot.TotalMinor != totalMinor)
        {
            violations.Add(new(HistoryProperty.TotalsMatch, $"room {room.RoomId} ({source}): totalMinor {snapshot.TotalMinor}, expected Σ choices × price = {totalMinor}"));
        }
    }

    private static void CheckClient(ClientView client, RoomFinalState room, List<Violation> violations)
    {
        var expected = Range(client.FirstVersion + 1, client.Version);
        if (!client.Applied.SequenceEqual(expected))
        {
            violations.Add(new(HistoryProperty.VersionsDense,
                $"{client.Client} in {room.RoomId}: applied {Versions(client.Applied)}, not v{client.FirstVersion + 1}..v{client.Version} each once"));
        }

        if (client.Version != room.Version)
        {
            violations.Add(new(HistoryProperty.ClientsConverge, $"{client.Client} in {room.RoomId}: ended at v{client.Version}, the room at v{room.Version}"));
        }

        if (Difference(client.Choices, room.Choices) is { } difference)
        {
            violations.Add(new(HistoryProperty.ClientsConverge, $"{client.Client} in {room.RoomId}: its choices differ from Redis: {difference}"));
        }
    }

    private static void CheckLogs(IReadOnlyList<string> secrets, IReadOnlyList<LogText> logs, List<Violation> violations)
    {
        // A scan of what is left of a log whose head was dropped would pass for one of all of it.
        foreach (var log in logs.Where(l => l.Text.StartsWith(OutputLog.DroppedMarker, StringComparison.Ordinal)))
        {
            violations.Add(new(HistoryProperty.NoSecretInLogs, $"{log.Source} lost its head (over the test's log bound): the secret scan cannot see all of it"));
        }

        foreach (var secret in secrets.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal))
        {
            // A JWT's signature alone is enough to matter (and survives a log that cut the token up).
            var needles = new List<string> { secret };
            var parts = secret.Split('.');
            if (parts.Length == 3 && parts[2].Length >= 16)
            {
                needles.Add(parts[2]);
            }

            foreach (var log in logs)
            {
                if (needles.FirstOrDefault(n => log.Text.Contains(n, StringComparison.Ordinal)) is { } found)
                {
                    var at = log.Text.IndexOf(found, StringComparison.Ordinal);
                    violations.Add(new(HistoryProperty.NoSecretInLogs,
                        $"{log.Source} contains a secret ({secret[..Math.Min(8, secret.Length)]}..., {secret.Length} chars) at offset {at}"));
                }
            }
        }
    }

    private static IEnumerable<RoomEvent> EventsOf(RoomFinalState room, OpRecord op) =>
        room.Events.Where(e => e.Type == RoomEventTypes.Choice && e.OpId == op.OpId && e.MemberId == op.MemberId);

    /// <summary>Null when equal, else the fields that differ ("field: a vs b"), at most five.</summary>
    private static string? Difference(IReadOnlyDictionary<string, int> actual, IReadOnlyDictionary<string, int> expected)
    {
        var fields = actual.Keys.Union(expected.Keys, StringComparer.Ordinal)
            .Where(k => actual.GetValueOrDefault(k) != expected.GetValueOrDefault(k))
            .Order(StringComparer.Ordinal).ToList();
        return fields.Count == 0
            ? null
            : string.Join(", ", fields.Take(5).Select(f => $"{f}: {actual.GetValueOrDefault(f)} vs {expected.GetValueOrDefault(f)}")) + (fields.Count > 5 ? $" (+{fields.Count - 5})" : string.Empty);
    }

    private static List<long> Range(long from, long to) => from > to ? [] : Enumerable.Range(0, (int)(to - from + 1)).Select(i => from + i).ToList();

    /// <summary>A short description of a version list: its length, ends and first irregularity.</summary>
    private static string Versions(IReadOnlyList<long> versions)
    {
        if (versions.Count == 0)
        {
            return "no version";
        }

        for (var i = 1; i < versions.Count; i++)
        {
            if (versions[i] != versions[i - 1] + 1)
            {
                return $"{versions.Count} versions v{versions[0]}..v{versions[^1]} (v{versions[i - 1]} then v{versions[i]})";
            }
        }

        return $"{versions.Count} versions v{versions[0]}..v{versions[^1]}";
    }
}
