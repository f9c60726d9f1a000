using System.Collections.Concurrent;
using System.Diagnostics;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// A shard's replica dies and stays dead. Its master still runs writes, but none can be confirmed:
/// each one's <c>WAIT</c> runs out its time and the write is answered <c>unavailable</c> (a member's
/// <c>Join</c> too: it writes the member's presence). WAIT blocks the connection it is sent on, and
/// nothing else of that shard may wait behind it: reads of its other rooms answer at once, and the
/// replica stays ready — its readiness ping and its heartbeat on
/// that shard go on another connection. (When they shared one, a read took seconds and the late
/// heartbeats left every replica deaf to the shard, none of them ready.)
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class LostShardReplicaTests(RedisClusterFixture cluster, ITestOutputHelper output) : IClassFixture<RedisClusterFixture>
{
    private const int Writers = 4;
    private static readonly TimeSpan Watch = TimeSpan.FromSeconds(8);

    // Far below the store deadline (1 s here), far above a read's few ms on a loaded box.
    private static readonly TimeSpan ReadLimit = TimeSpan.FromMilliseconds(RedisClusterFixture.StoreTimeoutMilliseconds / 2);

    [Fact]
    public async Task WritesThatCannotBeConfirmedHoldUpNothingElseOnTheirShard()
    {
        var shard = (await cluster.RoomOnEveryMasterAsync())[0];
        var neighbour = await cluster.RoomOnMasterAsync(shard.MasterPort);
        var r1 = cluster.Replicas[0];
        var writers = new List<RoomFollower>();
        var stop = false;
        var answers = new ConcurrentQueue<string>();
        try
        {
            for (var i = 0; i < Writers; i++)
            {
                writers.Add(await cluster.JoinAsync(shard.Room, "w" + i, r1));
            }

            (await writers[0].Client.AdjustChoiceAsync(shard.Room, "pizza", 1)).Version.Should().BeGreaterThan(0, "confirmed while the shard has its replica");
            (await cluster.Redis.ReplicaOfAsync(shard.MasterPort)).Kill();
            output.WriteLine($"killed the replica of master {shard.MasterPort}");

            // Several writers at once, so each one's WAIT queues behind the others'.
            var writing = writers.Select(async writer =>
            {
                while (!Volatile.Read(ref stop))
                {
                    try
                    {
                        await writer.Client.AdjustChoiceAsync(shard.Room, "pizza", 1);
                        answers.Enqueue("ok");
                    }
                    catch (HubErrorException refused)
                    {
                        answers.Enqueue(refused.Code);
                    }
                }
            }).ToList();
            await Poll.UntilAsync(() => answers.Contains(RoomErrorCodes.Unavailable), TimeSpan.FromSeconds(10), "a write answered unavailable: WAIT found no replica");

            var reads = new List<TimeSpan>();
            var problems = new List<string>();
            var refusedBefore = answers.Count(a => a == RoomErrorCodes.Unavailable);
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < Watch)
            {
                // A read: a snapshot through the API (a member's Join writes its presence, so it is confirmed too).
                var read = Stopwatch.StartNew();
                using (var snapshot = await cluster.Api.GetAsync(new Uri(r1.BaseUrl, $"api/rooms/{neighbour.Id}")))
                {
                    if (!snapshot.IsSuccessStatusCode)
                    {
                        problems.Add($"{watch.ElapsedMilliseconds} ms: the neighbour room's snapshot answered {(int)snapshot.StatusCode} {await snapshot.Content.ReadAsStringAsync()}");
                    }
                }

                reads.Add(read.Elapsed);
                if (await cluster.ReadyAsync(r1) is { Status: not 200 } ready)
                {
                    problems.Add($"{watch.ElapsedMilliseconds} ms: {ready.Status} {ready.Detail}");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }

            var refusedWhileWatched = answers.Count(a => a == RoomErrorCodes.Unavailable) - refusedBefore;
            Volatile.Write(ref stop, true);
            await Task.WhenAll(writing).WaitAsync(TimeSpan.FromSeconds(10));
            output.WriteLine($"{answers.Count} writes: {string.Join(", ", answers.GroupBy(a => a).Select(g => $"{g.Key} {g.Count()}"))}; " +
                $"{reads.Count} reads of the neighbour room, slowest {reads.Max().TotalMilliseconds:0} ms");

            // Writes kept waiting out their WAITs while the reads and readiness were watched. (In two runs
            // of fifteen, writes were confirmed again for about half a second a few seconds after the
            // kill — the cluster's doing, not the replica's — so the test asks for refusals, not only them.)
            refusedWhileWatched.Should().BeGreaterThanOrEqualTo(Writers, "writes on the shard went on waiting out WAITs that found no replica");
            // The 90th percentile: one GC or scheduling spike on a 2-core box is not what this is about.
            // Behind the WAITs every read took about the store deadline (1 s here).
            var sorted = reads.Order().ToList();
            sorted[(int)(0.9 * (sorted.Count - 1))].Should().BeLessThan(
                ReadLimit, $"a read of another room on the shard does not wait behind the writes' WAITs ({string.Join(", ", reads.Select(r => $"{r.TotalMilliseconds:0}"))} ms)");
            reads.Should().HaveCountGreaterThan(5, "reads went on through the watch");
            problems.Should().BeEmpty("the replica's reads, readiness ping and heartbeat on the shard do not wait behind WAITs\n" + cluster.Logs());
        }
        finally
        {
            Volatile.Write(ref stop, true);
            foreach (var writer in writers)
            {
                await writer.DisposeAsync();
            }
        }
    }
}
