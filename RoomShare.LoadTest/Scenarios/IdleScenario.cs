using System.Globalization;
using RoomShare.LoadTest.Console;
using RoomShare.LoadTest.Hub;
using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;
using RoomShare.LoadTest.Results;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// W0: many joined, silent connections. What each costs a replica in resident memory, and what the
/// fixed per-connection work (pings, Position pushes — every sixth tick in a room whose last event reached its members, since 2026-12-04 — presence leases) costs in CPU while nothing happens.
/// Runs first on a fresh cluster so the RSS before is a clean baseline: read once the rooms and tokens
/// exist, right before the first connection.
/// <para>
/// The rooms join in two halves, each followed by a settle. The issue's figure is the whole growth over every
/// connection, so it also charges the connections with what a process pays once, on its first connections (the
/// code it compiles for them, the framework's pages it first touches). The second half's growth over the second
/// half's connections leaves most of that out (not all: the runtime's executable memory still grew ~2 MiB in the
/// second half), so it is closer to what one more connection costs (docs/bench/w0-second-half.md).
/// </para>
/// </summary>
public static class IdleScenario
{
    public static async Task<IdleScenarioResult> RunAsync(ArmContext context, IdleScenarioSettings settings, CancellationToken cancellationToken)
    {
        var label = $"{context.Arm.Name} W0";
        context.Progress.Show($"{label}: creating {settings.Rooms} rooms × {settings.Members} members");
        await using var population = await RoomPopulation.CreateAsync(context.Api, "loadtest W0", settings.Rooms, settings.Members, 1, cancellationToken);
        var servers = context.Processes.Where(p => p.Kind == ProcessKind.Replica).Select(p => p.Name).ToList();

        // The baseline after the rooms and tokens exist (the HTTP API's own cost is not the connections'),
        // just before the first connection (until 2026-12-01 it was read before the rooms were created).
        var before = Rss(context.Processes);
        var closedBefore = population.Tracker.Snapshot().ClosedConnections;
        await using var pings = ConnectionSweep.Pings(() => population.Connections); // keeps every joined member alive from the first on
        await using var acks = ConnectionSweep.Acks(context.Hub.WebClient, () => population.Connections);

        // With a single room there is no first half: no reading between halves, no second half's figure.
        var half = settings.Rooms / 2;
        var first = half > 0 ? await ConnectAsync(context, population, ..half, label, settings, joinedBefore: 0, cancellationToken) : null;
        var middle = first is null ? new Dictionary<string, long?>(StringComparer.Ordinal) : Rss(context.Processes);
        var second = await ConnectAsync(context, population, half.., label, settings, joinedBefore: first?.Joined ?? 0, cancellationToken);
        var after = Rss(context.Processes);
        var connect = first?.Then(second) ?? second;

        context.Progress.Show($"{label}: idle window {settings.IdleSeconds}s");
        var start = CpuSample.Take(context.Processes);
        await Task.Delay(TimeSpan.FromSeconds(settings.IdleSeconds), cancellationToken);
        var idle = CpuUsage.Between(start, CpuSample.Take(context.Processes), deliveries: 0);

        var joinedOn = RssPerConnection.JoinedOn(servers, connect);
        var secondHalfOn = RssPerConnection.JoinedOn(servers, second);
        var perConnection = RssPerConnection.ByServer(joinedOn, before, after);
        var secondHalf = RssPerConnection.ByServer(secondHalfOn, middle, after);
        var closed = population.Tracker.Snapshot().ClosedConnections - closedBefore;
        ProgressLine.Log(Invariant(
            $"{label}: {connect.Joined}/{settings.Connections} joined in {connect.Seconds:0.0}s; KB/connection {Describe(perConnection)}, the second half's {Describe(secondHalf)}; idle replicas {idle.ReplicaCores} cores, box {idle.BoxBusyCores}"));
        var error = connect.Failed > 0 ? $"{connect.Failed} members failed to connect or join, e.g. {string.Join(" | ", connect.FailureSamples)}" : null;
        return new IdleScenarioResult(
            context.Arm.Name, settings, connect, joinedOn, before, middle, after, perConnection, secondHalfOn, secondHalf, idle, closed, error);
    }

    /// <summary>Joins the rooms <paramref name="rooms"/>, then lets the processes settle.</summary>
    private static async Task<ConnectReport> ConnectAsync(
        ArmContext context, RoomPopulation population, Range rooms, string label, IdleScenarioSettings settings, int joinedBefore, CancellationToken cancellationToken)
    {
        var report = await population.ConnectRoomsAsync(
            rooms,
            context.Hub,
            context.Profile.ConnectConcurrency,
            joined => context.Progress.Show($"{label}: joined {joinedBefore + joined}/{settings.Connections}"),
            cancellationToken);
        context.Progress.Show($"{label}: settling {settings.SettleSeconds}s");
        await Task.Delay(TimeSpan.FromSeconds(settings.SettleSeconds), cancellationToken);
        return report;
    }

    private static Dictionary<string, long?> Rss(IReadOnlyList<MeasuredProcess> processes) =>
        processes.ToDictionary(p => p.Name, p => ProcFs.RssBytes(p.Pid), StringComparer.Ordinal);

    private static string Describe(Dictionary<string, double?> kb) => string.Join(' ', kb.Select(r => $"{r.Key}:{r.Value}"));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
