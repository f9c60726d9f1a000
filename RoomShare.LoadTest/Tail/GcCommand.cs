using System.CommandLine;

namespace RoomShare.LoadTest.Tail;

/// <summary>
/// <c>gc</c>: each traced process's GC pauses split by phase (<see cref="GcPhases"/>), to see whether a pause is the
/// threads stopping, the marking (and which of it), or the compaction. Reads files only.
/// </summary>
public static class GcCommand
{
    public static Command Create()
    {
        var traces = new Argument<FileInfo[]>("traces")
        {
            Description = "one or more .nettrace files of 'dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:4'",
            Arity = ArgumentArity.OneOrMore,
        };
        traces.AcceptExistingOnly();
        var from = new Option<double?>("--from") { Description = "count only pauses that began this many seconds or more after the trace began" };
        var to = new Option<double?>("--to") { Description = "count only pauses that began before this many seconds after the trace began" };
        foreach (var bound in new[] { from, to })
        {
            bound.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<double?>() is { } seconds && !(seconds >= 0 && double.IsFinite(seconds)))
                {
                    result.AddError($"{result.Option.Name} must be a number of seconds, 0 or more");
                }
            });
        }

        var command = new Command("gc", "split each traced process's GC pauses by phase: suspension, each kind of marking, after marking") { traces, from, to };
        command.Validators.Add(result =>
        {
            if (result.GetValue(from) is { } f && result.GetValue(to) is { } t && t <= f)
            {
                result.AddError("--to must be after --from");
            }
        });
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                foreach (var trace in parse.GetValue(traces)!)
                {
                    var (pauses, seconds, lost) = GcPhaseTrace.Read(trace.FullName);
                    var fromSeconds = parse.GetValue(from) ?? 0;
                    if (fromSeconds >= seconds)
                    {
                        throw new TailInputException($"{trace.Name}: --from {fromSeconds} s is past the trace's end ({seconds:0.0} s)");
                    }

                    var toSeconds = Math.Min(parse.GetValue(to) ?? seconds, seconds);
                    var window = GcPhases.Within(pauses, fromSeconds * 1000, toSeconds * 1000);
                    foreach (var line in GcPhaseSummary.Lines(trace.Name, window, Math.Max(0, toSeconds - fromSeconds), lost))
                    {
                        output.WriteLine(line);
                    }
                }

                return 0;
            }
            catch (TailInputException e)
            {
                parse.InvocationConfiguration.Error.WriteLine(e.Message);
                return 1;
            }
        });
        return command;
    }
}
