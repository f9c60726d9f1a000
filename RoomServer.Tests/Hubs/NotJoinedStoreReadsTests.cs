using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// A room call from a connection that has not joined is refused — <c>forbidden</c> for a removed member, else
/// "call Join first" (DESIGN.md §3, §5) — and telling the two apart reads the member's removal generation from
/// the store. Those reads are paced per member at the member's write rate (here 2 a second, bursts of 5):
/// past it the call is <c>rate_limited</c> and the store is not asked, so a device calling in a loop without
/// joining costs the store a bounded amount. The reads are counted by a decorator of the store, only those the
/// hub's not-joined check makes.
/// </summary>
public abstract class NotJoinedStoreReadsTests(NotJoinedStoreReadsTests.ICountingServer counting)
{
    public const int PerSecond = 2;
    public const int Burst = 5;

    private ContractServer Server => counting.Server;

    [Fact]
    public async Task CallsBeforeJoinPastTheMembersRateAreRateLimitedWithoutReadingTheStore()
    {
        const int calls = 40;
        var room = await Server.CreateRoomAsync();
        await using var phone = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));
        await using var tablet = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));
        var before = counting.Reads(room.Id, "bob");

        var clock = Stopwatch.StartNew();
        var codes = new List<string>();
        for (var i = 0; i < calls; i++)
        {
            codes.Add(await phone.RejectedCodeAsync(Method(i), Arguments(Method(i), room)));
        }

        var elapsed = clock.Elapsed;
        var reads = counting.Reads(room.Id, "bob") - before;

        codes.Should().OnlyContain(c => c == RoomErrorCodes.InvalidArgument || c == RoomErrorCodes.RateLimited);
        codes.Take(Burst).Should().AllBe(RoomErrorCodes.InvalidArgument, "a full bucket asks the store for a whole burst");
        codes.Count(c => c == RoomErrorCodes.InvalidArgument).Should().Be(reads, "each 'call Join first' read the store once, and nothing else did");
        reads.Should().BeLessThanOrEqualTo(Burst + (int)Math.Ceiling(elapsed.TotalSeconds * PerSecond) + 1, $"{calls} calls in {elapsed.TotalMilliseconds:F0} ms");
        codes.Should().Contain(RoomErrorCodes.RateLimited);

        // One bucket for the member on this replica, not one per connection: the other device is paced too.
        var (paced, refilled) = await PacedOnTheOtherDeviceAsync(phone, tablet, room);
        paced.Code.Should().Be(RoomErrorCodes.RateLimited);
        paced.ErrorText.Should().Contain($"at most {PerSecond} such calls a second, bursts of {Burst}", "the message names the limit (DESIGN §5)");
        (counting.Reads(room.Id, "bob") - before).Should().Be(reads + refilled, "only the calls a token let through read the store");

        // It refills at the rate: a call that reads the store again answers "call Join first".
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        var error = await RefusalAsync(phone, room);
        while (error.Code == RoomErrorCodes.RateLimited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            error = await RefusalAsync(phone, room);
        }

        error.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        error.Message.Should().Contain("call Join(roomId, since) before changing the room");
    }

    [Fact]
    public async Task ARemovedMembersDeviceThatNeverJoinedIsForbiddenAndIsNotAskedAboutAgain()
    {
        var room = await Server.CreateRoomAsync();
        await using var owner = await Server.JoinAsync(room, "olga", "owner");
        await using var carl = await Server.JoinAsync(room, "carl");
        var tabletToken = await Server.TokenAsync(room, "carl");
        await using var tablet = await Server.ConnectAsync(tabletToken);
        (await tablet.RejectedCodeAsync("Refresh", room.Id)).Should().Be(RoomErrorCodes.InvalidArgument);

        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/carl")).StatusCode.Should().Be(HttpStatusCode.OK);
        var before = counting.Reads(room.Id, "carl");

        // Straight after the removal, before it closes the device (about 0.4 s later): forbidden, read fresh.
        var codes = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var code = await tablet.RejectedCodeUnlessClosedFirstAsync(Method(i), Arguments(Method(i), room));
            if (code is null)
            {
                break;
            }

            codes.Add(code);
        }

        // Only the not-joined check's reads are counted: the removal's own close looks the generation up too.
        var reads = counting.Reads(room.Id, "carl") - before;
        if (codes.Count > 0)
        {
            codes.Should().AllBe(RoomErrorCodes.Forbidden, "the member was removed after the token was issued");
            reads.Should().Be(1, "the first refusal read the removal fresh, and a removal once read is kept for the connection");
        }
        else
        {
            // The removal's close came before the first call was answered (a box slower than its 0.4 s head start):
            // that call may have read the store, no other did.
            reads.Should().BeLessThanOrEqualTo(1, "a removal once read is kept for the connection");
        }

        // Either way the removal closed the device, and its token is refused from now on.
        await tablet.Closed.WaitAsync(TimeSpan.FromSeconds(3));
        var reconnect = async () => await Server.ConnectAsync(tabletToken);
        (await reconnect.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401");
        (counting.Reads(room.Id, "carl") - before).Should().Be(reads, "a closed device asks nothing more");
    }

    private static string Method(int i) => (i % 3) switch
    {
        0 => "SetChoice",
        1 => "Refresh",
        _ => "AdjustChoice",
    };

    private static object?[] Arguments(string method, TestRoom room) =>
        method == "Refresh" ? [room.Id] : [room.Id, "pizza", 1, null];

    /// <summary>
    /// The other device's refusal once the phone emptied the member's bucket, and how many calls read the store meanwhile.
    /// A token may come back between the phone's last refusal and the tablet's call (two a second, on a slow box): then
    /// the phone empties the bucket again and the tablet tries again. A bucket of the tablet's own would let it through
    /// every time.
    /// </summary>
    private static async Task<(HubErrorException Refusal, int Refilled)> PacedOnTheOtherDeviceAsync(HubTestClient phone, HubTestClient tablet, TestRoom room)
    {
        var refilled = 0;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var refusal = await RefusalAsync(tablet, room);
            if (refusal.Code != RoomErrorCodes.InvalidArgument)
            {
                return (refusal, refilled);
            }

            refilled++;
            while ((await RefusalAsync(phone, room)).Code == RoomErrorCodes.InvalidArgument)
            {
                refilled++;
            }
        }

        throw new Xunit.Sdk.XunitException("the other device's call read the store right after each of five refusals: the pace is not per member");
    }

    private static async Task<HubErrorException> RefusalAsync(HubTestClient client, TestRoom room)
    {
        var act = () => client.InvokeAsync("Refresh", room.Id);
        return (await act.Should().ThrowAsync<HubErrorException>()).Which;
    }

    /// <summary>A server whose store counts its removal-generation reads per room and member.</summary>
    public interface ICountingServer
    {
        ContractServer Server { get; }

        int Reads(string roomId, string memberId);
    }

    /// <summary>Counts <see cref="IRoomStore.RemovalGenerationAsync"/> calls; the real store answers them.</summary>
    public sealed class ReadCounter
    {
        private readonly ConcurrentDictionary<(string, string), int> _reads = new();

        public int Reads(string roomId, string memberId) => _reads.GetValueOrDefault((roomId, memberId));

        public void Decorate(IServiceCollection services) => RoomStoreInterceptor.Decorate(services, (_, method, args) =>
        {
            if (method.Name == nameof(IRoomStore.RemovalGenerationAsync) && AskedByTheHub())
            {
                _reads.AddOrUpdate(((string)args[0]!, (string)args[1]!), 1, static (_, n) => n + 1);
            }

            return null;
        });

        /// <summary>
        /// Whether the hub's not-joined check asks — not the token check at connect, the removal's close
        /// (RemovedMemberEviction) or a catch-up after a re-subscription (RemovalCatchUp), which read the same
        /// generation. The store is called synchronously from the hub method's state machine, so it is on the stack.
        /// </summary>
        private static bool AskedByTheHub() =>
            new StackTrace().GetFrames().Any(f => f.GetMethod()?.DeclaringType is { } type
                && (type == typeof(RoomHub) || type.DeclaringType == typeof(RoomHub)));
    }

    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["RoomServer:Limits:MemberOpsPerSecond"] = PerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RoomServer:Limits:MemberOpsBurst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public sealed class EmbeddedServer : ContractServer, ICountingServer
    {
        private readonly ReadCounter _counter = new();

        public ContractServer Server => this;

        public int Reads(string roomId, string memberId) => _counter.Reads(roomId, memberId);

        protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() => Task.FromResult(Settings);

        protected override Task StopBackingServicesAsync() => Task.CompletedTask;

        protected override void ConfigureServices(IServiceCollection services) => _counter.Decorate(services);
    }

    public sealed class RedisServer : RedisContractServer, ICountingServer
    {
        private readonly ReadCounter _counter = new();

        public ContractServer Server => this;

        public int Reads(string roomId, string memberId) => _counter.Reads(roomId, memberId);

        protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
        {
            var settings = new Dictionary<string, string>(await base.StartBackingServicesAsync());
            foreach (var (key, value) in Settings)
            {
                settings[key] = value;
            }

            return settings;
        }

        protected override void ConfigureServices(IServiceCollection services) => _counter.Decorate(services);
    }
}

[Trait("Suite", "Contract")]
public sealed class EmbeddedNotJoinedStoreReadsTests(NotJoinedStoreReadsTests.EmbeddedServer server)
    : NotJoinedStoreReadsTests(server), IClassFixture<NotJoinedStoreReadsTests.EmbeddedServer>;

[Trait("Suite", "Contract")]
public sealed class RedisNotJoinedStoreReadsTests(NotJoinedStoreReadsTests.RedisServer server)
    : NotJoinedStoreReadsTests(server), IClassFixture<NotJoinedStoreReadsTests.RedisServer>;
