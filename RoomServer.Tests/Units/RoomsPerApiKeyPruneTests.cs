using System.Reflection;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A create's prune of its key's stale rooms (DESIGN.md §6 <c>MaxRoomsPerApiKey</c>: "never past the limit") asks the
/// store whether each is still there, then forgets those gone. A keyed retry running alongside can reserve such a room
/// and make it at last in between (its first attempt kept the place and failed before sending): the prune then forgot
/// a live room, which went uncounted for its whole life, and the key could hold one room more than its limit. A room is
/// now forgotten only while still stale. Embedded mode's store, with the store's answer held to force the interleaving;
/// Redis mode's script has the same guard (<c>Redis/KeyRoomsReleaseTests</c>).
/// </summary>
public sealed class RoomsPerApiKeyPruneTests
{
    private const string KeyId = "0a1b2c3d4e5f6071";

    [Fact]
    public async Task ARoomARetryMadeWhileAPruneAskedAboutItKeepsItsPlace()
    {
        var time = new ManualTimeProvider();
        var store = HeldFirstExists.Create();
        var rooms = new InMemoryRoomsPerApiKey(store.Proxy, time);
        var later = time.GetUtcNow() + TimeSpan.FromDays(30);

        // The first keyed attempt at room R kept its place (a minute's TTL) and failed before sending.
        (await rooms.TryReserveAsync(KeyId, "room-R", time.GetUtcNow() + TimeSpan.FromMinutes(1), max: 2, CancellationToken.None)).Should().BeTrue();
        time.Advance(TimeSpan.FromMinutes(2));

        // A create of R2 prunes: R is stale, and the store is asked about it (held: not made yet).
        var other = rooms.TryReserveAsync(KeyId, "room-R2", later, max: 2, CancellationToken.None);
        await store.FirstAsked.WaitAsync(TimeSpan.FromSeconds(5));

        // Meanwhile the retry of R reserves it again (and makes it).
        (await rooms.TryReserveAsync(KeyId, "room-R", later, max: 2, CancellationToken.None)).Should().BeTrue();

        store.AnswerFirst();
        (await other.WaitAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();

        // R and R2 are both live: a third room is past the limit of 2.
        (await rooms.TryReserveAsync(KeyId, "room-R3", later, max: 2, CancellationToken.None))
            .Should().BeFalse("the prune that found R missing before the retry made it must not forget R's new place");
    }

    /// <summary>A store that answers only <c>ExistsAsync</c>: "not there", the first time only once the test says so.</summary>
    // Not sealed: DispatchProxy derives the proxy type from it.
    public class HeldFirstExists : DispatchProxy
    {
        private readonly TaskCompletionSource _firstAsked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<bool> _firstAnswer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _asked;

        public IRoomStore Proxy { get; private set; } = null!;

        public Task FirstAsked => _firstAsked.Task;

        public static HeldFirstExists Create()
        {
            var proxy = Create<IRoomStore, HeldFirstExists>();
            var store = (HeldFirstExists)(object)proxy;
            store.Proxy = proxy;
            return store;
        }

        public void AnswerFirst() => _firstAnswer.TrySetResult(false);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name != nameof(IRoomStore.ExistsAsync))
            {
                throw new NotSupportedException(targetMethod?.Name);
            }

            if (Interlocked.Increment(ref _asked) == 1)
            {
                _firstAsked.TrySetResult();
                return _firstAnswer.Task;
            }

            return Task.FromResult(false);
        }
    }
}
