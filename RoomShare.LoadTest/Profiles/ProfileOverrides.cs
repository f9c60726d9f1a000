using System.Globalization;

namespace RoomShare.LoadTest.Profiles;

/// <summary>
/// <c>--set KEY=VALUE</c> on top of a profile, so any size is a parameter without an option for each.
/// Keys: W0.rooms|members|settle|idle · W1./W2.rooms|members|menu|rates|warmup|step|drain|settle|refine ·
/// W3.rooms|rates|step|max|p99|refine · slo.p99|relaxed · gen.lag|pool|cores|holdgc (on/off) · connect.concurrency · quiet.
/// Rates: a list (<c>100,200,400</c>) or a ladder <c>start:factor:max</c> (<c>250:1.25:4000</c>).
/// </summary>
public static class ProfileOverrides
{
    public static ProfileSettings Apply(ProfileSettings profile, IEnumerable<string> assignments)
    {
        foreach (var assignment in assignments)
        {
            var parts = assignment.Split('=', 2);
            if (parts.Length != 2)
            {
                throw new ArgumentException($"--set {assignment}: expected KEY=VALUE");
            }

            profile = Apply(profile, parts[0].Trim(), parts[1].Trim());
        }

        return profile;
    }

    private static ProfileSettings Apply(ProfileSettings p, string key, string value) => key.ToUpperInvariant() switch
    {
        "W0.ROOMS" => p with { W0 = p.W0 with { Rooms = Int(key, value) } },
        "W0.MEMBERS" => p with { W0 = p.W0 with { Members = Int(key, value) } },
        "W0.SETTLE" => p with { W0 = p.W0 with { SettleSeconds = Seconds(key, value) } },
        "W0.IDLE" => p with { W0 = p.W0 with { IdleSeconds = Seconds(key, value) } },
        ['W', '1', '.', ..] => p with { W1 = Write(p.W1, key, value) },
        ['W', '2', '.', ..] => p with { W2 = Write(p.W2, key, value) },
        "W3.ROOMS" => p with { W3 = p.W3 with { Rooms = Int(key, value) } },
        "W3.RATES" => p with { W3 = p.W3 with { Rates = Rates(key, value) } },
        "W3.STEP" => p with { W3 = p.W3 with { StepSeconds = Seconds(key, value) } },
        "W3.MAX" => p with { W3 = p.W3 with { MaxConnectionsPerStep = Int(key, value) } },
        "W3.P99" => p with { W3 = p.W3 with { P99LimitMs = Number(key, value) } },
        "W3.REFINE" => p with { W3 = p.W3 with { RefineSteps = RefineCount(key, value) } },
        "SLO.P99" => p with { Slo = p.Slo with { FanoutP99Ms = Number(key, value) } },
        "SLO.RELAXED" => p with { Slo = p.Slo with { RelaxedFanoutP99Ms = Number(key, value) } },
        "GEN.LAG" => p with { Generator = p.Generator with { MaxSendLagP99Ms = Number(key, value) } },
        "GEN.POOL" => p with { Generator = p.Generator with { MaxPoolDelayP99Ms = Number(key, value) } },
        "GEN.CORES" => p with { Generator = p.Generator with { MaxCores = Number(key, value) } },
        "GEN.HOLDGC" => p with { GeneratorHoldsGc = OnOff(key, value) },
        "CONNECT.CONCURRENCY" => p with { ConnectConcurrency = Int(key, value) },
        "QUIET" => p with { QuietSeconds = Seconds(key, value) },
        _ => throw new ArgumentException($"--set: unknown key '{key}'"),
    };

    private static WriteScenarioSettings Write(WriteScenarioSettings s, string key, string value) => key[3..].ToUpperInvariant() switch
    {
        "ROOMS" => s with { Rooms = Int(key, value) },
        "MEMBERS" => s with { Members = Int(key, value) },
        "MENU" => s with { MenuItems = Int(key, value) },
        "RATES" => s with { Rates = Rates(key, value) },
        "WARMUP" => s with { WarmupSeconds = Seconds(key, value) },
        "STEP" => s with { StepSeconds = Seconds(key, value) },
        "DRAIN" => s with { DrainSeconds = Seconds(key, value) },
        "SETTLE" => s with { SettleSeconds = Seconds(key, value) },
        "REFINE" => s with { RefineSteps = RefineCount(key, value) },
        _ => throw new ArgumentException($"--set: unknown key '{key}'"),
    };

    private static IReadOnlyList<int> Rates(string key, string value)
    {
        var ladder = value.Split(':');
        var rates = ladder.Length == 3
            ? Profiles.Ladder(Int(key, ladder[0]), Number(key, ladder[1]), Int(key, ladder[2]))
            : value.Split(',').Select(rate => Int(key, rate)).ToList();
        return rates.Count > 0 && rates.All(rate => rate > 0)
            ? rates
            : throw new ArgumentException($"--set {key}={value}: rates must be positive");
    }

    private static bool OnOff(string key, string value) => value.ToUpperInvariant() switch
    {
        "ON" => true,
        "OFF" => false,
        _ => throw new ArgumentException($"--set {key}={value}: expected on or off"),
    };

    private static int Int(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"--set {key}={value}: expected a positive whole number");

    /// <summary>A count of extra steps: 0 (none) to 10.</summary>
    private static int RefineCount(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 10
            ? n
            : throw new ArgumentException($"--set {key}={value}: expected a whole number from 0 to 10");

    private static double Seconds(string key, string value)
    {
        var seconds = Number(key, value);
        return seconds <= 600 ? seconds : throw new ArgumentException($"--set {key}={value}: at most 600 s");
    }

    private static double Number(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new ArgumentException($"--set {key}={value}: expected a number ≥ 0");
}
