namespace RoomShare.LoadTest.Tail;

/// <summary>Where one GC pause's time went, in ms.</summary>
public sealed record GcPauseSplit(int Generation, double PauseMs, IReadOnlyDictionary<string, double> PhaseMs);

/// <summary>
/// Splits each GC pause by its events: the threads stopping (suspension, up to <c>GCStart</c>), then each mark phase
/// (every <c>GCMarkWithType</c> ends one, which started where the one before ended), then what follows the marking
/// (plan, relocate, compact, and the threads starting again). Card marking, the older generations' references into
/// the one collected, is the "older generation (cards)" phase.
/// </summary>
public static class GcPhases
{
    public const string Suspension = "suspension";
    public const string AfterMarking = "after marking";

    /// <summary>The phases in the order a report lists them.</summary>
    public static readonly IReadOnlyList<string> Order =
        [Suspension, "stacks", "finalization", "handles", "older generation (cards)", "other marking", AfterMarking];

    /// <summary>The runtime's mark root types (<c>GCMarkWithType</c>'s <c>Type</c>), grouped as <see cref="Order"/> names them.</summary>
    public static string PhaseOf(int markType) => markType switch
    {
        0 => "stacks",
        1 or 7 => "finalization", // the finalization queue, and the objects it made ready
        2 or 4 or 6 => "handles", // handles, sized refs, dependent handles
        3 => "older generation (cards)",
        _ => "other marking", // overflow, stealing, background GC roots
    };

    /// <summary>
    /// Pauses from events in time order. A pause with no <c>GCStart</c> (threads stopped for something else) is none; a
    /// second suspend before a restart keeps the first; a trace that starts or ends mid-pause leaves that pause out.
    /// </summary>
    public static IReadOnlyList<GcPauseSplit> Split(IEnumerable<GcPhaseEvent> events)
    {
        var pauses = new List<GcPauseSplit>();
        double? suspendedAt = null;
        double? last = null;
        var generation = -1;
        Dictionary<string, double>? phases = null;
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case GcPhaseEventKind.SuspendStart:
                    suspendedAt ??= e.Ms;
                    break;
                case GcPhaseEventKind.GcStart when suspendedAt is { } start && phases is null:
                    generation = e.Value;
                    phases = new Dictionary<string, double> { [Suspension] = e.Ms - start };
                    last = e.Ms;
                    break;
                case GcPhaseEventKind.MarkEnd when phases is not null:
                    var phase = PhaseOf(e.Value);
                    phases[phase] = phases.GetValueOrDefault(phase) + (e.Ms - last!.Value);
                    last = e.Ms;
                    break;
                case GcPhaseEventKind.RestartStop:
                    if (suspendedAt is { } from && phases is not null)
                    {
                        phases[AfterMarking] = e.Ms - last!.Value;
                        pauses.Add(new GcPauseSplit(generation, e.Ms - from, phases));
                    }

                    suspendedAt = null;
                    phases = null;
                    last = null;
                    break;
            }
        }

        return pauses;
    }
}
