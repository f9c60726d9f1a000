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
/// ROOMSHARE_PARITY_SEEDS (a count) and ROOMSHARE_PARITY_STEPS run more, by hand.
/// </summary>
/// <param name="embedded">The reference side: embedded mode, JSON clients.</param>
/// <param name="other">The side compared with it.</param>
/// <param name="otherSpeaksMessagePack">The second side's devices use the MessagePack protocol (its answers compare as JSON).</param>
public abstract class StoreParityTests(EmbeddedContractServer embedded, ContractServer other, bool otherSpeaksMessagePack = false)
{
    private const int ReportedDivergences = 8;
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
        await using var left = new ParitySide(embedded);
        await using var right = new ParitySide(other, otherSpeaksMessagePack);
        await left.StartAsync();
        await right.StartAsync();
        var divergences = new List<string>();
        var trace = Environment.GetEnvironmentVariable("ROOMSHARE_PARITY_TRACE") is { Length: > 0 } dir
            ? new StreamWriter(Path.Combine(dir, $"parity-{seed}.txt"))
            : null;
        foreach (var op in ParityScript.Generate(seed, steps))
        {
            var (l, r) = (await left.ApplyAsync(op), await right.ApplyAsync(op));
            trace?.WriteLine($"{op}\n  embedded {l}\n  other    {r}");
            Compare(divergences, op, "answer", l, r);
            Compare(divergences, op, "snapshot", await ConvergedAsync(left.SnapshotAsync, right.SnapshotAsync));
            Compare(divergences, op, "delivery", await left.SettleAsync(), await right.SettleAsync());
            Compare(divergences, op, "closed devices", await ConvergedAsync(() => Task.FromResult(left.ClosedDevices()), () => Task.FromResult(right.ClosedDevices())));
            if (divergences.Count >= ReportedDivergences)
            {
                break; // the sides have parted; each further step would wait out the convergence timeout
            }
        }

        trace?.Dispose();
        foreach (var (l, r) in left.EventStreams().Zip(right.EventStreams()))
        {
            if (l != r)
            {
                divergences.Add($"events:\n  embedded {l}\n  other    {r}");
            }
        }

        divergences.Should().BeEmpty(
            "both stores keep one contract (seed {0}); the first {1}:\n{2}",
            seed, ReportedDivergences, string.Join("\n", divergences.Take(ReportedDivergences)));
    }

    /// <summary>
    /// Both sides' reading once they agree, or their last readings after <see cref="ConvergenceTimeout"/>. What runs on
    /// a clock — presence expiring after its grace, a device closed after its removal is broadcast — may land between
    /// two steps on one side and within the next on the other; only a difference that lasts is a divergence.
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
