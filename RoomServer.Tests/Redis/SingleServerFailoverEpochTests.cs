using System.Globalization;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// DESIGN.md §2 on a single Redis server with its replica (not a cluster), writes confirmed
/// (<c>ReplicasToAcknowledge</c> 1): a script publishes before Redis replicates, so a master that dies may have
/// sent an event its replica never got (the write was answered <c>unavailable</c>). Once the replica is promoted
/// it reuses that event's version for another event, so the room must take a new epoch and a member that saw the
/// lost event must resync from a snapshot — not be told <c>missed: []</c> on the old epoch and go on from a
/// history that never happened.
/// </summary>
public sealed class SingleServerFailoverEpochTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>The room nobody follows when the master dies: its next subscription (a Join) checks the epoch.</summary>
    [Fact]
    public async Task AResumeFromAnEventTheDeadMasterNeverReplicatedIsAnsweredWithANewEpochAndASnapshot()
    {
        var server = new FailoverServer();
        try
        {
            await server.InitializeAsync();
            var room = await server.CreateRoomAsync();
            RoomPosition seen;
            string annToken;
            await using (var ann = await server.JoinAsync(room, "ann"))
            {
                annToken = await server.TokenAsync(room, "ann");
                seen = await HearALostEventAsync(server, room, ann);
            }

            // Nobody follows the room any more: no re-check pass will see it.
            await Poll.UntilAsync(
                async () => (await server.Master.ExecuteListAsync("PUBSUB", "NUMSUB", $"rs:{{{room.Id}}}:events")) is [_, "0"],
                Bound,
                "the replica no longer subscribes to the room");

            await FailOverAsync(server);

            // Bob joins (the room's first subscription since) and writes: the promoted replica reuses the lost version.
            await using var bob = await server.JoinAsync(room, "bob");
            var bobs = await RetryWhileUnavailable.CallAsync(() => bob.Client.SetChoiceAsync(room, "cola", 1, "bob-1"), attempts: 20);
            output.WriteLine($"bob joined at {bob.Joined.Position}, wrote version {bobs.Version}; ann saw {seen}");

            await using var back = await server.ConnectAsync(annToken);
            var resumed = await back.InvokeAsync<JoinResult>("Join", room.Id, seen);
            output.WriteLine($"ann's resume from {seen}: position {resumed.Position}, snapshot {(resumed.Snapshot is null ? "none" : "yes")}, missed {(resumed.Missed is null ? "none" : resumed.Missed.Count.ToString(CultureInfo.InvariantCulture))}");

            resumed.Position.Epoch.Should().NotBe(seen.Epoch,
                "the master failed over after ann saw an event it never replicated: the room takes a new epoch (answered {0})", Describe(resumed));
            resumed.Snapshot.Should().NotBeNull("a resume from another epoch is answered with a snapshot");
            resumed.Snapshot!.Choices.Should().NotContain(c => c.MemberId == "ann" && c.Quantity == 5, "ann's unconfirmed write died with the master");
            (await server.Replica.ExecuteAsync("HGET", $"rs:{{{room.Id}}}:meta", "epoch")).Should().Be(resumed.Position.Epoch);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>A member connected all along is sent a Position with the new epoch once the server reaches the promoted replica.</summary>
    [Fact]
    public async Task AMemberThatSawAnEventTheDeadMasterNeverReplicatedIsSentAPositionWithANewEpoch()
    {
        var server = new FailoverServer();
        try
        {
            await server.InitializeAsync();
            var room = await server.CreateRoomAsync();
            await using var ann = await server.JoinAsync(room, "ann");
            await using var bob = await server.JoinAsync(room, "bob");
            var seen = await HearALostEventAsync(server, room, ann);

            await FailOverAsync(server);
            var bobs = await RetryWhileUnavailable.CallAsync(() => bob.Client.SetChoiceAsync(room, "cola", 1, "bob-1"), attempts: 20);
            output.WriteLine($"bob wrote version {bobs.Version}; ann saw {seen}");

            var position = await ann.Client.WaitForAsync("Position", p => p.GetProperty("epoch").GetString() != seen.Epoch, Bound);
            output.WriteLine($"ann was sent {position}");
            position.GetProperty("roomId").GetString().Should().Be(room.Id);
            (await server.Replica.ExecuteAsync("HGET", $"rs:{{{room.Id}}}:meta", "epoch")).Should().Be(position.GetProperty("epoch").GetString());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// Cuts the replica off its master (it follows a port nobody listens on, keeping its data and replication id), then
    /// has ann make a write: the master runs it and publishes its event, which ann hears, but no replica confirms it
    /// (answered <c>unavailable</c>). Returns the position ann saw.
    /// </summary>
    private static async Task<RoomPosition> HearALostEventAsync(FailoverServer server, TestRoom room, JoinedMember ann)
    {
        var confirmed = await RetryWhileUnavailable.CallAsync(() => ann.Client.SetChoiceAsync(room, "pizza", 1, "ann-1"));
        await ann.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == confirmed.Version, Bound);

        await server.Replica.ExecuteAsync("REPLICAOF", "127.0.0.1", FreePort.Next().ToString(CultureInfo.InvariantCulture));
        await Poll.UntilAsync(
            async () => (await server.Master.ExecuteAsync("INFO", "replication"))?.Contains("connected_slaves:0", StringComparison.Ordinal) == true,
            Bound,
            "the master has no replica left");

        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 5, "ann-lost")).Should().Be(RoomErrorCodes.Unavailable, "no replica confirmed it");
        var lost = await ann.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == confirmed.Version + 1, Bound);
        return new RoomPosition(room.Epoch, lost.GetProperty("version").GetInt64());
    }

    /// <summary>Kills the master (by pid), promotes its replica and gives it a replica of its own, so writes are confirmed again.</summary>
    private static async Task FailOverAsync(FailoverServer server)
    {
        server.Master.Kill();
        await server.Replica.ExecuteAsync("REPLICAOF", "NO", "ONE");
        await server.Spare.ReplicateAsync(server.Replica);
    }

    private static string Describe(JoinResult result) => JsonSerializer.Serialize(new { result.Position, snapshot = result.Snapshot is not null, result.Missed });

    /// <summary>The in-process server against a master and its replica, both in the connection string, writes confirmed by one replica.</summary>
    private sealed class FailoverServer : ContractServer
    {
        public RedisServerProcess Master { get; private set; } = null!;

        public RedisServerProcess Replica { get; private set; } = null!;

        /// <summary>The promoted replica's own replica, started empty.</summary>
        public RedisServerProcess Spare { get; private set; } = null!;

        protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
        {
            Master = await RedisServerProcess.StartAsync();
            Replica = await RedisServerProcess.StartAsync();
            Spare = await RedisServerProcess.StartAsync();
            await Replica.ReplicateAsync(Master);
            return new Dictionary<string, string>
            {
                ["ConnectionStrings:Redis"] = $"{Master.Endpoint},{Replica.Endpoint},abortConnect=false",
                ["RoomServer:Redis:ReplicasToAcknowledge"] = "1",
                ["RoomServer:StoreTimeoutMilliseconds"] = "1500",
            };
        }

        protected override async Task StopBackingServicesAsync()
        {
            foreach (var redis in new[] { Spare, Replica, Master })
            {
                if (redis is not null)
                {
                    await redis.DisposeAsync();
                }
            }
        }
    }
}
