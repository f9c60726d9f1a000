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
/// </summary>
public static class IdleScenario
{
    public static async Task<IdleScenarioResult> RunAsync(ArmContext context, IdleScenarioSettings settings, CancellationToken cancellationToken)
    {
        var label = $"{context.Arm.Name} W0";
        context.Progress.Show($"{label}: creating {settings.Rooms} rooms × {settings.Members} members");
        await using var population = await RoomPopulation.CreateAsync(context.Api, "loadtest W0", settings.Rooms, settings.Members, 1, cancellationToken);

        // The baseline after the rooms and tokens exist (the HTTP API's own cost is not the connections'),
        // just before the first connection (until 2026-12-01 it was read before the rooms were created).
        var before = Rss(context.Processes);
        var connect = await population.ConnectAllAsync(
            context.Hub,
            context.Profile.ConnectConcurrency,
            joined => context.Progress.Show($"{label}: joined {joined}/{settings.Connections}"),
            cancellationToken);
        await using var pings = new PingPump(() => population.Connections);
        var closedBefore = population.Tracker.Snapshot().ClosedConnections;

        context.Progress.Show($"{label}: settling {settings.SettleSeconds}s");
        await Task.Delay(TimeSpan.FromSeconds(settings.SettleSeconds), cancellationToken);
        var after = Rss(context.Processes);

        context.Progress.Show($"{label}: idle window {settings.IdleSeconds}s");
        var start = CpuSample.Take(context.Processes);
        await Task.Delay(TimeSpan.FromSeconds(settings.IdleSeconds), cancellationToken);
        var idle = CpuUsage.Between(start, CpuSample.Take(context.Processes), deliveries: 0);

        // With one server process every member is on it, whatever name it gives itself (the floor says "floor").
        var replicas = context.Processes.Where(p => p.Kind == ProcessKind.Replica).ToList();
        var perConnection = replicas.ToDictionary(
            p => p.Name,
            p => (replicas.Count == 1 ? connect.Joined : connect.PerReplica.GetValueOrDefault(p.Name)) is > 0 and var joined
                && before[p.Name] is { } b && after[p.Name] is { } a
                ? Math.Round((a - b) / 1024.0 / joined, 1)
                : (double?)null,
            StringComparer.Ordinal);
        var closed = population.Tracker.Snapshot().ClosedConnections - closedBefore;
        ProgressLine.Log(Invariant(
            $"{label}: {connect.Joined}/{settings.Connections} joined in {connect.Seconds:0.0}s; KB/connection {string.Join(' ', perConnection.Select(r => $"{r.Key}:{r.Value}"))}; idle replicas {idle.ReplicaCores} cores, box {idle.BoxBusyCores}"));
        var error = connect.Failed > 0 ? $"{connect.Failed} members failed to connect or join, e.g. {string.Join(" | ", connect.FailureSamples)}" : null;
        return new IdleScenarioResult(context.Arm.Name, settings, connect, before, after, perConnection, idle, closed, error);
    }

    private static Dictionary<string, long?> Rss(IReadOnlyList<MeasuredProcess> processes) =>
        processes.ToDictionary(p => p.Name, p => ProcFs.RssBytes(p.Pid), StringComparer.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
