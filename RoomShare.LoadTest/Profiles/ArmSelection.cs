using RoomShare.LoadTest.Cluster;

namespace RoomShare.LoadTest.Profiles;

/// <summary>
/// What <c>--arms</c> and <c>--scenarios</c> keep of a profile. Every name must be known and given once: a
/// repeated arm would run twice under one name, and the report finds an arm (the floor, say) by its name.
/// </summary>
public static class ArmSelection
{
    public static IReadOnlyList<string> ScenarioIds { get; } = ["W0", "W1", "W2", "W3"];

    /// <summary>Keeps the named arms (an arm the profile lacks runs W1) and, within them, the named scenarios.</summary>
    public static ProfileSettings Apply(ProfileSettings profile, IReadOnlyList<string> arms, IReadOnlyList<string> scenarios)
    {
        RejectRepeats("--arms", arms, " (to repeat an arm, run the tool again)");
        RejectRepeats("--scenarios", scenarios, string.Empty);
        foreach (var scenario in scenarios.Where(s => !ScenarioIds.Contains(s, StringComparer.Ordinal)))
        {
            throw new ArgumentException($"unknown scenario '{scenario}': {string.Join(", ", ScenarioIds)}");
        }

        // Named arms run the named scenarios (else their profile's, else W1); unnamed, the profile's arms
        // run the named scenarios they have.
        var plans = arms.Count == 0
            ? profile.Arms
            : arms.Select(name =>
            {
                var arm = ArmShape.Known.FirstOrDefault(a => a.Name == name)
                    ?? throw new ArgumentException($"unknown arm '{name}': {string.Join(", ", ArmShape.Known.Select(a => a.Name))}");
                return new ArmPlan(arm, scenarios.Count > 0 ? scenarios : profile.Arms.FirstOrDefault(p => p.Arm.Name == name)?.Scenarios ?? ["W1"]);
            }).ToList();
        if (scenarios.Count > 0)
        {
            plans = plans.Select(p => p with { Scenarios = [.. p.Scenarios.Where(s => scenarios.Contains(s, StringComparer.Ordinal))] })
                .Where(p => p.Scenarios.Count > 0).ToList();
        }

        return plans.Count > 0 ? profile with { Arms = plans } : throw new ArgumentException("no arm has any of the selected scenarios");
    }

    /// <summary>Splits comma-separated option values (<c>--arms a,b --arms c</c>) into names.</summary>
    public static List<string> Names(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static void RejectRepeats(string option, IReadOnlyList<string> names, string hint)
    {
        var repeated = names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (repeated.Count > 0)
        {
            throw new ArgumentException($"{option}: {string.Join(", ", repeated)} named more than once{hint}");
        }
    }
}
