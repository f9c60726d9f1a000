using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    [Fact]
    public async Task SetChoiceIsAcknowledgedAndBroadcastToEveryMember()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var bob = await Server.JoinAsync(room, "bob");
        await ann.Client.NextEventShouldBeAsync(2);
        await bob.Client.SkipEventsThroughAsync(2);

        var ack = await bob.Client.SetChoiceAsync(room, "pizza", 2, "bob-1");

        ack.Should().Be(new ChoiceAck(3, 2));
        foreach (var member in new[] { ann, bob })
        {
            var e = await member.Client.NextEventShouldBeAsync(3);
            e.Should().BeEquivalentTo(new { Type = RoomEventTypes.Choice, MemberId = "bob", MenuId = "pizza", Quantity = 2, OpId = "bob-1" });
        }

        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Choices.Should().Equal(new SnapshotChoice("bob", "pizza", 2));
        snapshot.Totals.Should().Equal(new SnapshotTotal("pizza", 2, 2300));
        snapshot.TotalMinor.Should().Be(2300);
    }

    [Fact]
    public async Task SettingZeroRemovesTheChoiceFromChoicesAndTotals()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await ann.Client.SetChoiceAsync(room, "pizza", 2);
        await ann.Client.SetChoiceAsync(room, "cola", 1);

        var ack = await ann.Client.SetChoiceAsync(room, "pizza", 0);

        ack.Should().Be(new ChoiceAck(4, 0));
        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Choices.Should().Equal(new SnapshotChoice("ann", "cola", 1));
        snapshot.Totals.Should().Equal(new SnapshotTotal("cola", 1, 300));
    }

    [Fact]
    public async Task SettingTheSameQuantityAgainSendsNoEventAndReturnsTheCurrentVersion()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await ann.Client.SetChoiceAsync(room, "pizza", 2);
        await ann.Client.NextEventShouldBeAsync(2);

        var again = await ann.Client.SetChoiceAsync(room, "pizza", 2);

        again.Should().Be(new ChoiceAck(2, 2));
        await AssertNothingChangedAsync(room, ann, 2);
    }

    [Fact]
    public async Task ARetriedWriteWithTheSameOpIdReturnsTheOriginalResultAndChangesNothing()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var annPhone = await Server.JoinAsync(room, "ann");

        var first = await ann.Client.SetChoiceAsync(room, "pizza", 2, "retry-me");
        await ann.Client.NextEventShouldBeAsync(2);
        var retry = await annPhone.Client.SetChoiceAsync(room, "pizza", 5, "retry-me");
        var retryAdjust = await annPhone.Client.AdjustChoiceAsync(room, "pizza", 3, "retry-me");

        first.Should().Be(new ChoiceAck(2, 2));
        retry.Should().Be(first, "a known opId returns the original result even when the arguments differ");
        retryAdjust.Should().Be(first);
        (await Server.SnapshotAsync(room)).Choices.Should().Equal(new SnapshotChoice("ann", "pizza", 2));
        await AssertNothingChangedAsync(room, ann, 2);
    }

    /// <summary>
    /// "Even when the arguments differ" holds for arguments the hub would refuse too: a retry answers as
    /// the original did. A new opId with the same arguments still gets their error.
    /// </summary>
    [Fact]
    public async Task ARetryWithTheSameOpIdAndArgumentsThatNoLongerPassReturnsTheOriginalResult()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var first = await ann.Client.SetChoiceAsync(room, "pizza", 2, "retry-me");
        await ann.Client.NextEventShouldBeAsync(2);

        (await ann.Client.InvokeAsync<ChoiceAck>("SetChoice", room.Id, "pizza", ContractServer.MaxQuantity + 1, "retry-me")).Should().Be(first);
        (await ann.Client.InvokeAsync<ChoiceAck>("SetChoice", room.Id, "not a menu id!", 1, "retry-me")).Should().Be(first);
        (await ann.Client.InvokeAsync<ChoiceAck>("SetChoice", room.Id, "pizza", "two", "retry-me")).Should().Be(first);
        (await ann.Client.InvokeAsync<ChoiceAck>("AdjustChoice", room.Id, "pizza", 2.5, "retry-me")).Should().Be(first);

        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", ContractServer.MaxQuantity + 1, "new-op")).Should().Be(RoomErrorCodes.InvalidQuantity);
        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "not a menu id!", 1, "new-op")).Should().Be(RoomErrorCodes.UnknownMenuItem);
        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", "two", null)).Should().Be(RoomErrorCodes.InvalidArgument);
        (await Server.SnapshotAsync(room)).Choices.Should().Equal(new SnapshotChoice("ann", "pizza", 2));
        await AssertNothingChangedAsync(room, ann, 2);
    }

    [Fact]
    public async Task TheIdempotencyWindowIsBoundedAndForgetsTheOldestOpIds()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        (await ann.Client.SetChoiceAsync(room, "pizza", 1, "oldest")).Should().Be(new ChoiceAck(2, 1));
        (await ann.Client.SetChoiceAsync(room, "pizza", 1, "second")).Should().Be(new ChoiceAck(2, 1));
        for (var i = 0; i < ContractServer.IdempotencyWindow - 1; i++)
        {
            await ann.Client.AdjustChoiceAsync(room, "cola", 0, $"filler-{i}");
        }

        (await ann.Client.SetChoiceAsync(room, "pizza", 7, "second")).Should().Be(new ChoiceAck(2, 1), "still inside the window");
        (await ann.Client.SetChoiceAsync(room, "pizza", 7, "oldest")).Should().Be(new ChoiceAck(3, 7), "pushed out of the window, so applied as new");
    }

    [Fact]
    public async Task OpIdsAreScopedToTheMember()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var bob = await Server.JoinAsync(room, "bob");

        var annAck = await ann.Client.SetChoiceAsync(room, "pizza", 1, "same-op");
        var bobAck = await bob.Client.SetChoiceAsync(room, "pizza", 4, "same-op");

        annAck.Should().Be(new ChoiceAck(3, 1));
        bobAck.Should().Be(new ChoiceAck(4, 4), "another member's opId is a different operation");
    }

    [Fact]
    public async Task AdjustChoiceIsFlooredAtZeroAndCappedAtTheMaximum()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        (await ann.Client.AdjustChoiceAsync(room, "pizza", -3)).Should().Be(new ChoiceAck(1, 0), "nothing to remove: no change, no event");
        (await ann.Client.AdjustChoiceAsync(room, "pizza", 5)).Should().Be(new ChoiceAck(2, 5));
        (await ann.Client.AdjustChoiceAsync(room, "pizza", 1000)).Should().Be(new ChoiceAck(3, ContractServer.MaxQuantity));
        (await ann.Client.AdjustChoiceAsync(room, "pizza", 1)).Should().Be(new ChoiceAck(3, ContractServer.MaxQuantity));
        (await ann.Client.AdjustChoiceAsync(room, "pizza", -1000)).Should().Be(new ChoiceAck(4, 0));

        (await ann.Client.NextEventShouldBeAsync(2)).Quantity.Should().Be(5);
        (await ann.Client.NextEventShouldBeAsync(3)).Quantity.Should().Be(ContractServer.MaxQuantity);
        (await ann.Client.NextEventShouldBeAsync(4)).Quantity.Should().Be(0);
    }

    [Fact]
    public async Task AWholeNumberPastIntsRangeIsClampedAsADeltaAndRefusedByItsRangeAsAQuantity()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        // "±n; result floored at 0, capped at the max" (DESIGN.md §3): any whole delta, however large.
        var up = await ann.Client.InvokeAsync<ChoiceAck>("AdjustChoice", room.Id, "pizza", 3_000_000_000L, null);
        up.Quantity.Should().Be(ContractServer.MaxQuantity);
        var down = await ann.Client.InvokeAsync<ChoiceAck>("AdjustChoice", room.Id, "pizza", -10_000_000_000_000_000_000_000_000_000m, null);
        down.Should().Be(new ChoiceAck(up.Version + 1, 0));

        var setTooMany = () => ann.Client.InvokeAsync("SetChoice", room.Id, "pizza", 3_000_000_000L, null);
        var refused = (await setTooMany.Should().ThrowAsync<HubErrorException>()).Which;
        refused.Code.Should().Be(RoomErrorCodes.InvalidQuantity);
        refused.ErrorText.Should().Contain($"between 0 and {ContractServer.MaxQuantity}", "the number is whole: what is wrong is its range");

        (await ann.Client.NextEventShouldBeAsync(up.Version)).Quantity.Should().Be(ContractServer.MaxQuantity);
        (await ann.Client.NextEventShouldBeAsync(down.Version)).Quantity.Should().Be(0);
    }

    [Fact]
    public async Task AdjustChoiceFromTwentyConcurrentConnectionsOfOneMemberSumsExactly()
    {
        const int devices = 20;
        const int incrementsEach = 4;
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "ann");
        var clients = await Task.WhenAll(Enumerable.Range(0, devices).Select(async _ =>
        {
            var client = await Server.ConnectAsync(token);
            await client.InvokeAsync("Join", room.Id, null);
            return client;
        }));
        try
        {
            var acks = await Task.WhenAll(clients.Select(async client =>
            {
                var mine = new List<ChoiceAck>();
                for (var i = 0; i < incrementsEach; i++)
                {
                    mine.Add(await client.AdjustChoiceAsync(room, "pasta", 1));
                }

                return mine;
            }));

            var all = acks.SelectMany(a => a).ToList();
            all.Select(a => a.Quantity).Should().OnlyHaveUniqueItems("each increment saw its own result")
                .And.BeEquivalentTo(Enumerable.Range(1, devices * incrementsEach));
            all.Select(a => a.Version).Should().OnlyHaveUniqueItems();
            var snapshot = await Server.SnapshotAsync(room);
            snapshot.Choices.Should().Equal(new SnapshotChoice("ann", "pasta", devices * incrementsEach));
            snapshot.Version.Should().Be(1 + (devices * incrementsEach));
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task FiftyMembersChoosingConcurrentlyGetDenseVersionsEveryEventOnceInOrderAndExactTotals()
    {
        const int memberCount = 50;
        var room = await Server.CreateRoomAsync();
        var members = await Task.WhenAll(Enumerable.Range(0, memberCount).Select(i => Server.JoinAsync(room, $"m{i:00}")));
        try
        {
            await Task.WhenAll(members.Select(async (m, i) =>
            {
                await m.Client.SetChoiceAsync(room, "pizza", (i % 5) + 1, $"p-{i}");
                await m.Client.AdjustChoiceAsync(room, "cola", (i % 3) + 1, $"c-{i}");
            }));

            const long finalVersion = memberCount * 3;
            foreach (var m in members)
            {
                await m.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == finalVersion, TimeSpan.FromSeconds(20));
                var after = m.Client.Received("RoomEvent")
                    .Select(e => e.GetProperty("version").GetInt64())
                    .Where(v => v > m.Joined.Position.Version)
                    .ToList();
                after.Should().Equal(
                    Enumerable.Range((int)m.Joined.Position.Version + 1, (int)(finalVersion - m.Joined.Position.Version)).Select(v => (long)v),
                    $"{m.MemberId} receives every event after its join once, in version order");
            }

            var snapshot = await Server.SnapshotAsync(room);
            snapshot.Version.Should().Be(finalVersion, "versions are dense: 50 member events and 100 choice events");
            snapshot.Members.Should().HaveCount(memberCount);
            var expectedPizzas = Enumerable.Range(0, memberCount).Sum(i => (i % 5) + 1);
            var expectedColas = Enumerable.Range(0, memberCount).Sum(i => (i % 3) + 1);
            snapshot.Totals.Should().Equal(
                new SnapshotTotal("pizza", expectedPizzas, expectedPizzas * 1150L),
                new SnapshotTotal("cola", expectedColas, expectedColas * 300L));
            snapshot.TotalMinor.Should().Be((expectedPizzas * 1150L) + (expectedColas * 300L));
            snapshot.TotalMinor.Should().Be(snapshot.Choices.Sum(c => c.Quantity * ContractServer.Menu.Single(i => i.Id == c.MenuId).PriceMinor));
        }
        finally
        {
            await Task.WhenAll(members.Select(m => m.DisposeAsync().AsTask()));
        }
    }
}
