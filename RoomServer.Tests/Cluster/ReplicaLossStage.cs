using System.Globalization;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// The stage for losing a replica (kill -9, SIGTERM): members of one room on every replica — every other
/// one through nginx, which puts them all on the room's replica (their tokens name the room, DESIGN.md §7),
/// the victim; the rest straight on each replica in turn, so some stay on survivors — and a writer
/// straight on another replica changing choices throughout. The writer's replica never
/// fails, but on a loaded machine one of its store calls can outlast the deadline: a write answered
/// <c>unavailable</c> is sent again with its opId, as DESIGN.md §5 tells a client to, and applies once.
/// </summary>
internal sealed class ReplicaLossStage : IAsyncDisposable
{
    private ReplicaLossStage(TestRoom room, List<RoomFollower> members, RoomServerProcess victim, RoomFollower writer, WriterLoop loop, Task running)
    {
        Room = room;
        Members = members;
        Victim = victim;
        Writer = writer;
        Loop = loop;
        Running = running;
        OnVictim = members.Where(m => m.Replica == victim.ReplicaId).ToList();
    }

    public TestRoom Room { get; }

    public List<RoomFollower> Members { get; }

    public RoomServerProcess Victim { get; }

    public List<RoomFollower> OnVictim { get; }

    public RoomFollower Writer { get; }

    public WriterLoop Loop { get; }

    public Task Running { get; }

    public static async Task<ReplicaLossStage> StartAsync(ClusterFixture cluster, string memberPrefix, int memberCount = 9)
    {
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        try
        {
            for (var i = 0; i < memberCount; i++)
            {
                var via = i % 2 == 0 ? null : cluster.Replicas[i / 2 % cluster.Replicas.Count].BaseUrl;
                members.Add(await cluster.JoinAsync(room, memberPrefix + i.ToString(CultureInfo.InvariantCulture), via));
            }

            var victimId = members.Where((_, i) => i % 2 == 0).Select(m => m.Replica).Distinct().Should()
                .ContainSingle("nginx puts the members of one room on the room's replica").Subject;
            var writer = await cluster.JoinAsync(room, "writer", cluster.Replicas.First(r => r.ReplicaId != victimId).BaseUrl);
            members.Add(writer);
            var loop = new WriterLoop(writer.Client, room, "writer", "pizza", maxWrites: 400, pacing: TimeSpan.FromMilliseconds(10), flowingAfter: 20, retryUnavailableOnce: true);
            var running = loop.RunAsync();
            await loop.Flowing.WaitAsync(TimeSpan.FromSeconds(10));
            members.Remove(writer);
            var stage = new ReplicaLossStage(room, members, cluster.Replica(victimId), writer, loop, running);
            stage.OnVictim.Should().HaveCountGreaterThanOrEqualTo(2);
            members.Should().Contain(m => m.Replica != victimId, "some members stay on survivors through the loss");
            return stage;
        }
        catch
        {
            await Task.WhenAll(members.Select(m => m.DisposeAsync().AsTask()));
            throw;
        }
    }

    /// <summary>
    /// Twenty more acknowledged changes, then the writer stops; every one of its writes was acknowledged, at
    /// most a few of them (2 %) only when sent again with their opIds, and each of those is in the room's history once.
    /// </summary>
    public async Task FinishWritingAsync(ClusterFixture cluster, ITestOutputHelper output)
    {
        var target = Loop.Acknowledged + 20;
        Loop.StopWhen(outcomes => outcomes.Count(o => o.Ack is not null) >= target);
        await Running.WaitAsync(TimeSpan.FromSeconds(30));
        var outcomes = Loop.Outcomes;
        var retried = outcomes.Where(o => o.FirstAnswer is not null).ToList();
        if (retried.Count > 0)
        {
            output.WriteLine($"{retried.Count} of {outcomes.Count} writes were answered {RoomErrorCodes.Unavailable} and sent again with their opIds: {string.Join(", ", retried.Select(o => o.OpId))}");
        }

        outcomes.Should().OnlyContain(o => o.Ack != null, "the writer's replica never failed");
        retried.Count.Should().BeLessThanOrEqualTo(Math.Max(1, outcomes.Count / 50), "a slow store call now and then, not a failing replica");
        if (retried.Count > 0)
        {
            var history = await cluster.RedisEventsAsync(Room);
            foreach (var outcome in retried)
            {
                history.Where(e => e.MemberId == outcome.MemberId && e.OpId == outcome.OpId).Should().ContainSingle(
                    $"{outcome.OpId}, answered {outcome.FirstAnswer} and sent again with its opId, is applied exactly once");
            }
        }
    }

    public async ValueTask DisposeAsync() =>
        await Task.WhenAll(Members.Append(Writer).Select(m => m.DisposeAsync().AsTask()));
}
