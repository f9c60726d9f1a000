using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>What the change path keeps instead of rebuilding per call says the same as what it replaced.</summary>
public sealed class HotPathCachesTests
{
    [Fact]
    public void APerRoomValueIsBuiltOnceAndTheCacheStartsOverPastItsCapacity()
    {
        var built = new List<string>();
        var cache = new PerRoomCache<string>(id => { built.Add(id); return "v:" + id; }, capacity: 2);

        cache.Get("a").Should().BeSameAs(cache.Get("a"));
        cache.Get("b");
        built.Should().Equal("a", "b");

        cache.Get("c"); // the third room: past the capacity, the cache starts over
        cache.Get("a").Should().Be("v:a");
        built.Should().Equal("a", "b", "c", "a");
    }

    [Fact]
    public void AValueWhoseBuildThrowsIsNotKept()
    {
        var calls = 0;
        var cache = new PerRoomCache<string>(id => { calls++; throw RoomException.Invalid("bad id " + id); });

        var get = () => cache.Get("x");
        get.Should().Throw<RoomException>();
        get.Should().Throw<RoomException>();
        calls.Should().Be(2);
    }

    [Fact]
    public void ARoomsKeysAreOneSharedArrayAndAnInvalidIdStillThrowsAfterValidOnesAreKept()
    {
        RedisKeys.ForRoom("kept_1").Should().BeSameAs(RedisKeys.ForRoom("kept_1"));
        RedisKeys.ForNotice("kept_1", new IdempotencyKey("0a1b", "k1", "h")).Should().NotBeSameAs(RedisKeys.ForRoom("kept_1"))
            .And.HaveCount(10, "a notice's keys are a copy with its record added");
        var kept = RedisKeys.ForRoom("kept_1").Select(k => k.ToString()).ToList();
        kept.Should().HaveCount(9).And.OnlyContain(k => k.StartsWith("rs:{kept_1}:", StringComparison.Ordinal));
        _ = RedisKeys.ForCreateOnce("kept_1");
        _ = RedisKeys.ForDelete("kept_1");
        _ = RedisKeys.ForStateChange("kept_1");
        RedisKeys.ForRoom("kept_1").Select(k => k.ToString()).Should().Equal(kept, "the builders that add keys copy the shared array, never write to it");

        var build = () => RedisKeys.ForRoom("kept_1}");
        build.Should().Throw<RoomException>().Which.Code.Should().Be(RoomErrorCodes.InvalidArgument);
    }

    [Theory]
    [InlineData(false, "PUBLISH rs:{r7}:events")]
    [InlineData(true, "SPUBLISH rs:{r7}:events")]
    public void EveryScriptsArgumentsAreThePreludesThreeThenItsOwn(bool sharded, string publish)
    {
        var topology = new RedisTopology(IsCluster: sharded, ShardedPubSub: sharded, ReplicasToAcknowledge: 0);

        var args = topology.ScriptArguments("r7", 50, "2026-12-03T19:00:00.000Z", ["ann", 3]);

        args.Select(a => a.ToString()).Should().Equal(publish, "50", "2026-12-03T19:00:00.000Z", "ann", "3");
        topology.ScriptArguments("r7", 50, "", []).Should().HaveCount(3);
    }

    [Fact]
    public void AnEventsAcceptedTimeIsReadFromItsJsonAndAMissingOrMalformedOneIsNull()
    {
        EventStamps.AcceptedAt("{\"version\":3,\"at\":\"2026-12-03T19:00:01.250Z\",\"x\":1}"u8)
            .Should().Be(new DateTimeOffset(2026, 12, 3, 19, 0, 1, 250, TimeSpan.Zero));
        EventStamps.AcceptedAt("{\"version\":3}"u8).Should().BeNull();
        EventStamps.AcceptedAt("{\"at\":\"2026-12-03T19:00\"}"u8).Should().BeNull("too short to hold a stamp");
        EventStamps.AcceptedAt(Encoding.UTF8.GetBytes("{\"at\":\"not-a-time-at-all-really\"}")).Should().BeNull();
    }

    [Fact]
    public void AConnectionsMemberIsReadFromItsTokenOnceAndABadTokenIsRefusedEveryTime()
    {
        var ann = new Caller(new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(RoomClaims.MemberId, "ann"), new Claim(RoomClaims.RoomId, "r7"), new Claim(RoomClaims.Role, RoomClaims.MemberRole),
            new Claim(RoomClaims.DisplayName, "Ann"),
        ])));

        var first = HubMember.ForRoom(ann, "r7");
        first.Should().Be(new HubMember("ann", "r7", "Ann", RoomClaims.MemberRole, 0));
        HubMember.From(ann).Should().BeSameAs(first);
        var otherRoom = () => HubMember.ForRoom(ann, "r8");
        otherRoom.Should().Throw<RoomException>().Which.Code.Should().Be(RoomErrorCodes.Forbidden, "the kept member is still checked against the call's room");

        var noRoom = new Caller(new ClaimsPrincipal(new ClaimsIdentity([new Claim(RoomClaims.MemberId, "bob")])));
        var read = () => HubMember.From(noRoom);
        read.Should().Throw<RoomException>().Which.Code.Should().Be(RoomErrorCodes.Unauthorized);
        read.Should().Throw<RoomException>().Which.Code.Should().Be(RoomErrorCodes.Unauthorized);
        noRoom.Items.Should().BeEmpty();
    }

    [Fact]
    public void AConnectionWhosePrincipalChangesIsReadAgainFromTheNewOne()
    {
        // A long poll, a server-sent-events request or a stateful reconnect brings its own token to a live connection.
        var connection = new Caller(Principal("ann", RoomClaims.OwnerRole));
        HubMember.From(connection).IsOwner.Should().BeTrue();

        connection.Principal = Principal("ann", RoomClaims.MemberRole);
        var now = HubMember.From(connection);
        now.IsOwner.Should().BeFalse("the member comes from the token the connection holds now, not the first one");
        HubMember.From(connection).Should().BeSameAs(now);

        connection.Principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(RoomClaims.MemberId, "ann")]));
        var read = () => HubMember.From(connection);
        read.Should().Throw<RoomException>().Which.Code.Should().Be(RoomErrorCodes.Unauthorized, "a bad token is refused though a good one was read before");
    }

    [Fact]
    public void ANullRoomIdIsRefusedAsAnInvalidArgumentNotAnArgumentNullException()
    {
        var build = () => RedisKeys.ForRoom(null!);
        build.Should().Throw<RoomException>().Which.Code.Should().Be(RoomErrorCodes.InvalidArgument);
    }

    private static ClaimsPrincipal Principal(string memberId, string role) => new(new ClaimsIdentity(
    [
        new Claim(RoomClaims.MemberId, memberId), new Claim(RoomClaims.RoomId, "r7"), new Claim(RoomClaims.Role, role),
    ]));

    private sealed class Caller(ClaimsPrincipal user) : HubCallerContext
    {
        public override string ConnectionId => "c1";

        public override string? UserIdentifier => null;

        public ClaimsPrincipal? Principal { get; set; } = user;

        public override ClaimsPrincipal? User => Principal;

        public override IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override CancellationToken ConnectionAborted => CancellationToken.None;

        public override void Abort()
        {
        }
    }
}
