using System.Globalization;
using RoomShare.RoomServer.Tests.Contract.Parity;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The stores and protocols answer alike (DESIGN.md §2: embedded mode is the same contract in one process, and a
/// Redis Cluster the same as one Redis; §3: MessagePack carries JSON's shapes). A seeded script of hub calls and API
/// requests, good and bad (<see cref="ParityScript"/>), runs step by step against an embedded server with JSON
/// clients and another side (a server on Redis, or MessagePack clients); after every step their answers, the rooms'
/// snapshots and which devices they closed must match, and at the end every device's stream of room events. The
/// contract suite checks each promise on its own; this finds where two implementations part on sequences nobody
/// wrote down.
/// ROOMSHARE_PARITY_SEEDS (a count) and ROOMSHARE_PARITY_STEPS run more, by hand; ROOMSHARE_PARITY_TRACE (a folder) keeps
/// every step's answers and any divergence, a file per class and seed.
/// </summary>
/// <param name="embedded">The reference side: embedded mode, JSON clients.</param>
/// <param name="other">The side compared with it.</param>
/// <param name="otherSpeaksMessagePack">The second side's devices use the MessagePack protocol (its answers compare as JSON).</param>
public abstract class StoreParityTests(EmbeddedContractServer embedded, ContractServer other, bool otherSpeaksMessagePack = false)
{
    private const int StopAfterDivergences = 8;
    private static readonly TimeSpan ConvergenceTimeout = TimeSpan.FromSeconds(4);

    public static TheoryData<int> Seeds()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("ROOMSHARE_PARITY_SEEDS"), CultureInfo.InvariantCulture, out var n) ? n : 6;
        var seeds = new TheoryData<int>();
        foreach (var seed in Enumerable.Range(1, count))
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task EveryStepOfASeededScriptIsAnsweredAsEmbeddedModeAnswersIt(int seed)
    {
        var steps = int.TryParse(Environment.GetEnvironmentVariable("ROOMSHARE_PARITY_STEPS"), CultureInfo.InvariantCulture, out var n) ? n : 200;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60 + steps); // a run that crawls is a finding too, and must end
        await using var left = new ParitySide(embedded);
        await using var right = new ParitySide(other, otherSpeaksMessagePack);
        await using var trace = Environment.GetEnvironmentVariable("ROOMSHARE_PARITY_TRACE") is { Length: > 0 } dir
            ? new StreamWriter(Path.Combine(dir, $"parity-{GetType().Name}-{seed}.txt")) { AutoFlush = true }
            : StreamWriter.Null;
        var divergences = new List<string>();
        var start = new ParityOp(-1, ParityOpKind.NewDevice, "everyone");
        Compare(divergences, start, "start", await left.StartAsync(), await right.StartAsync());
        foreach (var op in ParityScript.Generate(seed, steps))
        {
            var (l, r) = (await left.ApplyAsync(op), await right.ApplyAsync(op));
            await trace.WriteLineAsync($"{op}\n  embedded {l}\n  other    {r}");
            Compare(divergences, op, "answer", l, r);
            RequireNoServerError(divergences, op, l, r);
            Require(divergences, op, "a removed member's devices closed", left.LeftOpenAfterRemoval.Length == 0 && right.LeftOpenAfterRemoval.Length == 0,
                $"{left.LeftOpenAfterRemoval} / {right.LeftOpenAfterRemoval}");
            Compare(divergences, op, "snapshot", await left.SnapshotAsync(), await right.SnapshotAsync());
            var (leftDelivery, rightDelivery) = (await left.SettleAsync(), await right.SettleAsync());
            Require(divergences, op, "every joined device caught up", leftDelivery == "settled" && rightDelivery == "settled", $"{leftDelivery} / {rightDelivery}");
            Compare(divergences, op, "closed devices", await ConvergedAsync(() => Task.FromResult(left.ClosedDevices()), () => Task.FromResult(right.ClosedDevices())));
            var (leftStray, rightStray) = (left.UnexpectedlyClosed(), right.UnexpectedlyClosed());
            Require(divergences, op, "no device closed but a removed member's", leftStray.Length == 0 && rightStray.Length == 0, $"{leftStray} / {rightStray}");
            Compare(divergences, op, "presence", await ConvergedAsync(left.PresenceAsync, right.PresenceAsync));
            if (divergences.Count >= StopAfterDivergences || DateTime.UtcNow > deadline)
            {
                divergences.Add(divergences.Count >= StopAfterDivergences ? "(stopped: the sides have parted)" : $"(stopped at {op}: out of time)");
                break;
            }
        }

        try
        {
            await left.DrainAsync();
            await right.DrainAsync();
            var (leftStreams, rightStreams) = (left.EventStreams(), right.EventStreams());
            leftStreams.Should().HaveSameCount(rightStreams, "both sides connected the same devices (seed {0}; divergences so far:\n{1})",
                seed, string.Join("\n", divergences.Take(StopAfterDivergences + 2)));
            foreach (var (l, r) in leftStreams.Zip(rightStreams).Where(p => p.First != p.Second))
            {
                divergences.Insert(0, $"events:\n  embedded {l}\n  other    {r}");
            }
        }
        finally
        {
            // The trace keeps what parted the sides too, even when the drain fails: a rare failure's console output may be lost.
            foreach (var divergence in divergences)
            {
                await trace.WriteLineAsync("DIVERGENCE " + divergence);
            }
        }

        divergences.Should().BeEmpty(
            "both sides keep one contract (seed {0}); {1} divergences:\n{2}",
            seed, divergences.Count, string.Join("\n", divergences.Take(StopAfterDivergences + 2)));
        left.Succeeded.Should().BeGreaterThan(steps / 5, "a script that is mostly refused tests little (seed {0})", seed);
    }

    /// <summary>
    /// Both sides' reading once they agree, or their last readings after <see cref="ConvergenceTimeout"/>. Only for what
    /// runs on a clock — presence expiring after its grace, a device closed after its removal is broadcast — which may
    /// land between two steps on one side and within the next on the other; only a difference that lasts is a divergence.
    /// </summary>
    private static async Task<(string Embedded, string Other)> ConvergedAsync(Func<Task<string>> readEmbedded, Func<Task<string>> readOther)
    {
        var deadline = DateTime.UtcNow + ConvergenceTimeout;
        while (true)
        {
            var (e, r) = (await readEmbedded(), await readOther());
            if (e == r || DateTime.UtcNow > deadline)
            {
                return (e, r);
            }

            await Task.Delay(50);
        }
    }

    /// <summary>A 5xx, or a hub error SignalR had to hide (no HubException), is a failure even when both sides give it.</summary>
    private static void RequireNoServerError(List<string> divergences, ParityOp op, string embedded, string other)
    {
        static bool ServerError(string answer) => answer.Contains("HTTP 5", StringComparison.Ordinal) || answer.Contains("An unexpected error occurred", StringComparison.Ordinal);
        Require(divergences, op, "no server error", !ServerError(embedded) && !ServerError(other), $"{embedded} / {other}");
    }

    private static void Require(List<string> divergences, ParityOp op, string what, bool holds, string readings)
    {
        if (!holds)
        {
            divergences.Add($"{op}: {what}, but {readings}");
        }
    }

    private static void Compare(List<string> divergences, ParityOp op, string what, (string Embedded, string Other) readings) =>
        Compare(divergences, op, what, readings.Embedded, readings.Other);

    private static void Compare(List<string> divergences, ParityOp op, string what, string embedded, string other)
    {
        if (embedded != other)
        {
            divergences.Add($"{op} {what}:\n  embedded {embedded}\n  other    {other}");
        }
    }
}

/// <summary>JSON against MessagePack, both embedded: the protocols carry one contract, bad arguments included.</summary>
[Trait("Suite", "Contract")]
public sealed class MessagePackParityTests(EmbeddedContractServer embedded)
    : StoreParityTests(embedded, embedded, otherSpeaksMessagePack: true), IClassFixture<EmbeddedContractServer>;

[Trait("Suite", "Contract")]
public sealed class RedisStoreParityTests(EmbeddedContractServer embedded, RedisContractServer redis)
    : StoreParityTests(embedded, redis), IClassFixture<EmbeddedContractServer>, IClassFixture<RedisContractServer>;
