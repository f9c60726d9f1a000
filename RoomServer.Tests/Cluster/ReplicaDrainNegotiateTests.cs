using System.Diagnostics;
using System.Globalization;
using System.Net;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// SIGTERM drain with clients that negotiate first, as the official clients do by default, with tokens
/// minted elsewhere (without the room in their header, so nginx goes by the client, DESIGN.md §7): their
/// affinity cookie pins them to one replica, so when that replica drains, nginx must move both the
/// negotiate and the WebSocket (the draining replica answers 503 on /hubs/, which nginx retries on
/// the next replica of the ring). <see cref="ReplicaDrainTests"/> covers skipNegotiation clients.
/// </summary>
[Trait("Suite", "Cluster")]
[Collection(DestructiveClusterCollection.Name)]
public sealed class ReplicaDrainNegotiateTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private const int MemberCount = 9;
    private const int Newcomers = 3;
    private static readonly TimeSpan FollowTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task NegotiatingMembersOfADrainingReplicaResumeElsewhereAndNoNegotiateDuringTheDrainLandsOnIt()
    {
        var room = await cluster.CreateRoomAsync();
        var jars = new Dictionary<string, CookieContainer>(StringComparer.Ordinal);
        var members = new List<RoomFollower>();
        var newcomers = new List<RoomFollower>();
        try
        {
            // Each member is its own browser: its own cookie jar, kept across its reconnect.
            for (var i = 0; i < MemberCount; i++)
            {
                var memberId = "n" + i.ToString(CultureInfo.InvariantCulture);
                jars[memberId] = new CookieContainer();
                members.Add(await JoinNegotiatingAsync(room, memberId, jars[memberId]));
            }

            var victimId = members.GroupBy(m => m.Replica).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
            var victim = cluster.Replica(victimId);
            var onVictim = members.Where(m => m.Replica == victimId).ToList();
            onVictim.Should().HaveCountGreaterThanOrEqualTo(3, "9 members over 3 replicas: the fullest has at least 3");
            var pinned = jars[onVictim[0].MemberId].GetCookies(cluster.BaseUrl)["rs_affinity"];
            pinned.Should().NotBeNull("nginx gave the negotiating client its affinity cookie");

            // Each member of the victim comes back as soon as it is closed — with its cookie, which still
            // hashes to the victim — while the victim is still closing the others.
            var sinceTerm = Stopwatch.StartNew();
            var resumes = onVictim.Select(async m =>
            {
                await m.Client.Closed.WaitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 2));
                m.DrainReceived();
                var since = m.Version;
                var result = await m.ReconnectAsync(cluster.BaseUrl, Negotiating(jars[m.MemberId]));
                return (Member: m, Since: since, Result: result);
            }).ToList();
            PosixSignal.Terminate(victim.Pid);

            while (await cluster.ReadyStatusAsync(victim) != 503)
            {
                sinceTerm.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "a draining replica stops being ready at once");
                await Task.Delay(10);
            }

            // New clients during the drain, pinned to the victim by the same cookie (a new tab of the same browser).
            newcomers.AddRange(await Task.WhenAll(Enumerable.Range(0, Newcomers).Select(i =>
            {
                var jar = new CookieContainer();
                jar.Add(cluster.BaseUrl, new Cookie(pinned!.Name, pinned.Value, "/"));
                return JoinNegotiatingAsync(room, "late" + i.ToString(CultureInfo.InvariantCulture), jar);
            })));
            var newcomersDoneWhileRunning = !victim.HasExited;

            var resumed = await Task.WhenAll(resumes);
            foreach (var (m, since, result) in resumed)
            {
                result.Replica.Should().NotBe(victimId, $"{m} negotiates again and lands on another replica");
                result.Missed.Should().NotBeNull($"{m}: history reaches back to v{since}");
                result.Missed!.Select(e => e.Version).Should().Equal(ClusterConsistencyTests.Range(since + 1, result.Position.Version));
            }

            newcomers.Should().OnlyContain(n => n.Replica != victimId, "no negotiate during the drain lands on the draining replica");

            (await victim.WaitForExitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 3))).Should().BeTrue($"the replica exits within its drain time\n{cluster.Logs()}");

            // nginx's own record: negotiates the victim refused with 503 went on to a survivor.
            var victimAddress = victim.BaseUrl.Authority;
            var retried = File.ReadLines(cluster.Nginx.AccessLogPath)
                .Where(l => l.Contains("/hubs/room/negotiate", StringComparison.Ordinal) && l.Contains($"upstream={victimAddress}, ", StringComparison.Ordinal))
                .ToList();
            output.WriteLine($"SIGTERM to {victimId} with {onVictim.Count} negotiating members; {Newcomers} pinned newcomers joined " +
                $"{(newcomersDoneWhileRunning ? "before" : "after")} it exited, on [{string.Join(", ", newcomers.Select(n => n.Replica))}]; " +
                $"resumed on [{string.Join(", ", resumed.Select(r => r.Result.Replica))}]; negotiates retried past it:\n{string.Join('\n', retried)}");
            retried.Should().Contain(l => l.Contains("upstream_status=503, 200", StringComparison.Ordinal),
                "nginx retries a negotiate the draining replica refused with 503 on the next replica");

            // Everyone, moved or new, follows the room from here on.
            var writer = members.First(m => m.Replica != victimId);
            var last = await writer.Client.SetChoiceAsync(room, "pizza", 3, "after-drain");
            var followers = members.Concat(newcomers).ToList();
            await Task.WhenAll(followers.Select(m => m.FollowUntilAsync(last.Version, FollowTimeout)));
            foreach (var m in followers)
            {
                m.Gaps.Should().BeEmpty($"{m} never saw a gap");
                m.AssertEveryConnectionReceivedInOrderOnce();
            }
        }
        finally
        {
            await Task.WhenAll(members.Concat(newcomers).Select(m => m.DisposeAsync().AsTask()));
        }
    }

    private static Action<HubTestClientOptions> Negotiating(CookieContainer jar) => o =>
    {
        o.Negotiate = true;
        o.ConfigureHttp = http => http.Cookies = jar;
    };

    private async Task<RoomFollower> JoinNegotiatingAsync(TestRoom room, string memberId, CookieContainer jar)
    {
        var token = TestTokens.Mint(cluster.SigningKey, room.Id, memberId, memberId.ToUpperInvariant());
        var client = await HubTestClient.ConnectAsync(cluster.BaseUrl, token, Negotiating(jar));
        var follower = new RoomFollower(room, memberId, token, client);
        try
        {
            await follower.JoinAsync(resume: false);
            return follower;
        }
        catch
        {
            await follower.DisposeAsync();
            throw;
        }
    }
}
