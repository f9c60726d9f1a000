namespace RoomShare.LoadTest.Tail;

/// <summary>Who a CPU's time went to, in the terms of the tail question.</summary>
public enum TaskClass
{
    Idle,
    Server,
    Generator,
    Nginx,
    Redis,
    Kdamond,
    Other,
}

/// <summary>Sorts runs into <see cref="TaskClass"/>: the .NET processes by pid (their threads have many names), the rest by name.</summary>
public sealed record TaskClassifier(IReadOnlySet<int> ServerPids, int? GeneratorPid)
{
    public TaskClass Classify(SchedRun run) => run switch
    {
        { Pid: null } => TaskClass.Idle,
        { Pid: { } pid } when ServerPids.Contains(pid) => TaskClass.Server,
        { Pid: { } pid } when pid == GeneratorPid => TaskClass.Generator,
        _ when run.Name.StartsWith("nginx", StringComparison.Ordinal) => TaskClass.Nginx,
        _ when run.Name.StartsWith("redis", StringComparison.Ordinal) => TaskClass.Redis,
        _ when run.Name.StartsWith("kdamond", StringComparison.Ordinal) => TaskClass.Kdamond,
        _ => TaskClass.Other,
    };
}
