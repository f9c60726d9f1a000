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
        var command = new Command("gc", "split each traced process's GC pauses by phase: suspension, each kind of marking, after marking") { traces };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                foreach (var trace in parse.GetValue(traces)!)
                {
                    var (pauses, seconds, lost) = GcPhaseTrace.Read(trace.FullName);
                    foreach (var line in GcPhaseSummary.Lines(trace.Name, pauses, seconds, lost))
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
