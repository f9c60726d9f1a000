using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// A retry whose arguments no longer pass the hub's checks is answered from its opId (DESIGN.md §2). When
/// that lookup cannot be answered (Redis away, the replica deaf), the call is <c>unavailable</c> — the
/// client retries — never its arguments' error, which the client takes as final although the write it
/// retries may be in the room.
/// </summary>
[Trait("Suite", "Contract")]
public sealed class ReplayLookupUnavailableTests(ReplayLookupUnavailableTests.FailingReplayServer server)
    : IClassFixture<ReplayLookupUnavailableTests.FailingReplayServer>
{
    [Fact]
    public async Task ARetryWithBadArgumentsWhoseOpIdCannotBeLookedUpIsUnavailable()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        var first = await ann.Client.SetChoiceAsync(room, "pizza", 2, "retry-me");

        server.Failing = true;
        try
        {
            (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", ContractServer.MaxQuantity + 1, "retry-me"))
                .Should().Be(RoomErrorCodes.Unavailable, "the write may be applied: the client must retry, not give up");
            (await ann.Client.RejectedCodeAsync("AdjustChoice", room.Id, "not a menu id!", 1, "retry-me"))
                .Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            server.Failing = false;
        }

        (await ann.Client.InvokeAsync<ChoiceAck>("SetChoice", room.Id, "pizza", ContractServer.MaxQuantity + 1, "retry-me"))
            .Should().Be(first, "once the store answers, the retry gets the original result");
        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", ContractServer.MaxQuantity + 1, "new-op"))
            .Should().Be(RoomErrorCodes.InvalidQuantity, "an opId the room does not know leaves the call its own error");
    }

    /// <summary>Embedded mode whose opId lookup (<see cref="IRoomStore.ReplayChoiceAsync"/>) fails as when Redis is away, while <see cref="FailingStoreServer.Failing"/> is set.</summary>
    public sealed class FailingReplayServer : FailingStoreServer
    {
        protected override string FailingMethod => nameof(IRoomStore.ReplayChoiceAsync);

        protected override object Failure() => Task.FromException<ChoiceAck?>(RoomException.Unavailable("the store is away (test)"));
    }
}
