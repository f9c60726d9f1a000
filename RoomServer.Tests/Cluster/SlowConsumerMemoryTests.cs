using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// What several members that stop reading cost a replica (issue #11: "non-reading clients at 60 KB
/// notices, and measure the replica's RSS"). Its own cluster, so nothing but this flood moves the
/// measured replica's memory.
/// </summary>
[Trait("Suite", "Cluster")]
public sealed class SlowConsumerMemoryTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private const int SlowMembers = 8;
    private const int Notices = 400;
    private const int WarmUpNotices = Notices;
    private const int ConcurrentPosts = 4;
    private const long MiB = 1024 * 1024;

    /// <summary>
    /// Per connection, besides the counted pending bytes: the one frame whose write crosses the bound,
    /// SignalR's application pipe (ApplicationMaxBufferSize, 64 KB by default), Kestrel's output pipe
    /// (MaxResponseBufferSize, 64 KB) and the frame the WebSocket transport holds while it sends.
    /// </summary>
    private const long PipeAllowancePerConnection = (2 * ClusterFixture.MaxNoticePayloadBytes) + (2 * 64 * 1024);

    /// <summary>
    /// For the process as a whole, not per connection: the GC's room. A frame that waits for a slow
    /// member outlives gen0 and is promoted, so it stays resident until the next gen2 collection
    /// (the warm-up flood, with nobody slow, leaves the same frames to die young instead). How much
    /// that is depends on the workstation GC's budgets, not on this configuration: measured +41–48 MB
    /// with 8 slow members. Fixed, whatever the number of slow members; the kernel's socket buffers
    /// are kernel memory and never count toward RSS.
    /// </summary>
    private const long ProcessAllowance = 64 * MiB;

    [Fact]
    public async Task SeveralMembersThatStopReadingCostTheReplicaABoundedAmountOfMemory()
    {
        var replica = cluster.Replicas[0];
        var payload = new string('x', ClusterFixture.MaxNoticePayloadBytes - 100);

        // Warm-up: a flood with one reading member, so the heap, the pools and the JIT reach what the
        // notice path itself needs. What the second flood adds is then what the slow members cost. The
        // reader only makes the replica deliver; whether it keeps up on a loaded machine does not matter
        // here (ClusterConsistencyTests checks that a reader is never delayed), so it is not checked.
        // Its own room, so a drop of the reader cannot be mistaken for a slow member's below.
        long warmUpPeak;
        var warmUpRoom = await cluster.CreateRoomAsync();
        await using (var reader = await cluster.JoinAsync(warmUpRoom, "reader", replica.BaseUrl))
        {
            warmUpPeak = (await FloodAsync(warmUpRoom, replica, payload, WarmUpNotices)).PeakBytes;
        }

        var room = await cluster.CreateRoomAsync();

        var slow = new List<SlowMember>();
        try
        {
            for (var i = 0; i < SlowMembers; i++)
            {
                var token = await cluster.TokenAsync(room, "slow" + i.ToString("00", CultureInfo.InvariantCulture));
                slow.Add(await SlowMember.JoinAsync(replica.BaseUrl, token, room.Id, TimeSpan.FromSeconds(10)));
            }

            var rssBefore = ProcessMemory.RssBytes(replica.Pid);
            var clock = Stopwatch.StartNew();
            long peak;
            await using (var sampler = RssSampler.Start(replica.Pid, TimeSpan.FromMilliseconds(10)))
            {
                await FloodAsync(room, replica, payload, Notices);

                // Every slow member has been dropped to a resync.
                foreach (var member in slow)
                {
                    await Poll.UntilAsync(() => TcpQueues.Of(replica.Port, member.LocalPort) is null, TimeSpan.FromSeconds(15),
                        "the replica closes every slow member's connection once its backlog passes the bound");
                }

                peak = sampler.PeakBytes;
            }

            var floodSeconds = clock.Elapsed.TotalSeconds;
            var rssAfter = ProcessMemory.RssBytes(replica.Pid);

            // Without the bound the replica keeps every frame still queued for a slow member. Frames are
            // serialized once per message and shared by every connection's queue, so that is the flood
            // once (not once per member), less what the kernel takes off a socket: the replica's send
            // buffer (at most tcp_wmem's maximum) and the member's 4 KB receive buffer.
            var floodBytes = (long)Notices * payload.Length;
            var unbounded = floodBytes - (TcpQueues.MaxSendBufferBytes() + 4096);

            // With it: each connection holds at most the bound plus SignalR's and Kestrel's pipes, plus
            // the fixed allowance for the process (see the constants).
            var connections = SlowMembers;
            var bound = (connections * (ClusterFixture.MaxPendingBytesPerConnection + PipeAllowancePerConnection)) + ProcessAllowance;
            var growth = peak - rssBefore;
            output.WriteLine(
                $"warm-up: {WarmUpNotices} notices to one reading member, replica RSS peak {Mb(warmUpPeak)}. Then {SlowMembers} non-reading members " +
                $"on that replica, {Notices} notices × {payload.Length / 1024} KB ({Mb(floodBytes)}) in {floodSeconds:0.0} s: " +
                $"RSS before {Mb(rssBefore)}, peak {Mb(peak)} (+{Mb(growth)}), after {Mb(rssAfter)}; " +
                $"bound +{Mb(bound)}; without the bound at least +{Mb(unbounded)}");

            // The bound itself: each slow member was dropped at most one frame past MaxPendingBytesPerConnection.
            var behind = Regex.Matches(replica.Output, $@"in room {room.Id} fell (\d+) bytes behind: closed for a resync")
                .Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            output.WriteLine($"dropped at {string.Join(", ", behind)} bytes behind (bound {ClusterFixture.MaxPendingBytesPerConnection})");
            behind.Should().HaveCount(SlowMembers, "every slow member is dropped to a resync, once");
            behind.Should().OnlyContain(b => b > ClusterFixture.MaxPendingBytesPerConnection && b <= ClusterFixture.MaxPendingBytesPerConnection + ClusterFixture.MaxNoticePayloadBytes + 1024,
                "a member is dropped by the write that takes it past the bound, one frame at most past it");
            growth.Should().BeLessThanOrEqualTo(bound,
                $"the replica's memory stays within connections × (MaxPendingBytesPerConnection + pipes) + {Mb(ProcessAllowance)}\n{cluster.Logs()}");
        }
        finally
        {
            await Task.WhenAll(slow.Select(m => m.DisposeAsync().AsTask()));
        }
    }

    /// <summary>Posts the notices a few at a time, sampling the replica's RSS throughout.</summary>
    private async Task<(long PeakBytes, TimeSpan Took)> FloodAsync(TestRoom room, RoomServerProcess replica, string payload, int notices)
    {
        var clock = Stopwatch.StartNew();
        await using var sampler = RssSampler.Start(replica.Pid, TimeSpan.FromMilliseconds(10));
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, ConcurrentPosts).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= notices)
            {
                await PostNoticeAsync(room, replica, payload);
            }
        }));
        return (sampler.PeakBytes, clock.Elapsed);
    }

    private async Task PostNoticeAsync(TestRoom room, RoomServerProcess replica, string payload)
    {
        // Straight to the replica, as in ClusterConsistencyTests: the flood measures the replica, not nginx.
        using var response = await cluster.Api.PostAsJsonAsync(new Uri(replica.BaseUrl, $"api/rooms/{room.Id}/notices"), new { kind = "load", payload }, ContractServer.Json);
        ((int)response.StatusCode).Should().Be(202, await response.Content.ReadAsStringAsync());
    }

    private static string Mb(long bytes) => (bytes / (double)MiB).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
}
