namespace RoomShare.LoadTest.Tail;

/// <summary>
/// Where one stretch of a GC pause went, in ms, and the bytes each mark phase marked; <paramref name="StartMs"/>: when it
/// began, on the trace's clock. <paramref name="Generation"/> is null for a pause in which no collection started: a
/// background GC's later pauses, or threads stopped for something else.
/// </summary>
public sealed record GcPauseSplit(int? Generation, double StartMs, double PauseMs, IReadOnlyDictionary<string, double> PhaseMs, IReadOnlyDictionary<string, long> MarkedBytes);

/// <summary>
/// Splits each GC pause by its events: the threads stopping (suspension, up to <c>GCStart</c>), then each mark phase
/// (every <c>GCMarkWithType</c> ends one, which started where the one before ended), then what follows the marking
/// (plan, relocate, compact, and the threads starting again). Card marking, the older generations' references into
/// the ones collected, is the "older generation (cards)" phase. Server GC's heaps mark side by side, each with events
/// of its own: the phases' times are heap 0's, the bytes every heap's.
/// </summary>
public static class GcPhases
{
    public const string Suspension = "suspension";
    public const string Cards = "older generation (cards)";
    public const string AfterMarking = "after marking";

    /// <summary>The phases in the order a report lists them.</summary>
    public static readonly IReadOnlyList<string> Order =
        [Suspension, "stacks", "finalization", "handles", Cards, "other marking", AfterMarking];

    /// <summary>The runtime's mark root types (<c>GCMarkWithType</c>'s <c>Type</c>), grouped as <see cref="Order"/> names them.</summary>
    public static string PhaseOf(int markType) => markType switch
    {
        0 => "stacks",
        1 or 7 => "finalization", // the finalization queue, and the objects it made ready
        2 or 4 or 6 => "handles", // handles, sized refs, dependent handles
        3 => Cards,
        _ => "other marking", // overflow, stealing, background GC roots
    };

    /// <summary>The pauses that began in [<paramref name="fromMs"/>, <paramref name="toMs"/>) on the trace's clock.</summary>
    public static IReadOnlyList<GcPauseSplit> Within(IEnumerable<GcPauseSplit> pauses, double fromMs, double toMs) =>
        [.. pauses.Where(p => p.StartMs >= fromMs && p.StartMs < toMs)];

    /// <summary>
    /// Pauses from events in time order. A second suspend before a restart keeps the first, unless a collection started
    /// since (its restart was lost: that pause is left out); a second collection in one pause (a gen1 before a background
    /// GC starts) ends the first's stretch there and begins its own; a trace that starts or ends mid-pause leaves that
    /// pause out.
    /// </summary>
    public static IReadOnlyList<GcPauseSplit> Split(IEnumerable<GcPhaseEvent> events)
    {
        var pauses = new List<GcPauseSplit>();
        double? suspendedAt = null;
        Stretch? open = null;
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case GcPhaseEventKind.SuspendStart when open is not null:
                    // A collection's pause whose restart the trace lost (EventPipe drops events under load): dropped,
                    // rather than stretched to this pause.
                    open = null;
                    suspendedAt = e.Ms;
                    break;
                case GcPhaseEventKind.SuspendStart:
                    suspendedAt ??= e.Ms;
                    break;
                case GcPhaseEventKind.GcStart when suspendedAt is { } start:
                    if (open is not null)
                    {
                        pauses.Add(open.Close(e.Ms));
                    }

                    open = new Stretch(e.Value, open is null ? start : e.Ms, e.Ms);
                    break;
                case GcPhaseEventKind.MarkEnd when open is not null:
                    open.Mark(e);
                    break;
                case GcPhaseEventKind.RestartStop:
                    if (open is not null)
                    {
                        pauses.Add(open.Close(e.Ms));
                    }
                    else if (suspendedAt is { } from)
                    {
                        pauses.Add(new GcPauseSplit(null, from, e.Ms - from, new Dictionary<string, double>(), new Dictionary<string, long>()));
                    }

                    suspendedAt = null;
                    open = null;
                    break;
            }
        }

        return pauses;
    }

    /// <summary>One collection's stretch of a pause, from its suspend (or the collection before it in the pause).</summary>
    private sealed class Stretch(int generation, double from, double gcStart)
    {
        private readonly Dictionary<string, double> _phases = new() { [Suspension] = gcStart - from };
        private readonly Dictionary<string, long> _bytes = [];
        private double _last = gcStart;

        public void Mark(GcPhaseEvent e)
        {
            var phase = PhaseOf(e.Value);
            _bytes[phase] = _bytes.GetValueOrDefault(phase) + e.Bytes;
            if (e.Heap == 0)
            {
                _phases[phase] = _phases.GetValueOrDefault(phase) + Math.Max(0, e.Ms - _last);
                _last = Math.Max(_last, e.Ms);
            }
        }

        public GcPauseSplit Close(double at)
        {
            _phases[AfterMarking] = Math.Max(0, at - _last);
            return new GcPauseSplit(generation, from, at - from, _phases, _bytes);
        }
    }
}
