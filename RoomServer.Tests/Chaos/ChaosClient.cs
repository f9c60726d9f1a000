using System.Net.WebSockets;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// One device of one member in a chaos run: a <see cref="RoomFollower"/> (the official client, kept
/// the way DESIGN.md §2 tells a client to) that writes random choices with fresh opIds, records each
/// attempt's fate in the <see cref="History"/>, and — like a real app — reconnects through nginx and
/// resumes with <c>Join(since)</c> whenever its connection is lost.
/// </summary>
public sealed class ChaosClient : IAsyncDisposable
{
    /// <summary>Past this a write's fate is unknown to the client (the server's store deadline is 1 s).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(4);

    private static readonly TimeSpan ReconnectPause = TimeSpan.FromMilliseconds(250);
    private const int MaxReconnectAttempts = 120;

    private readonly ClusterFixture _cluster;
    private readonly History _history;
    private readonly Random _random;
    private bool _joined = true;
    private int _next;

    private ChaosClient(ClusterFixture cluster, History history, string name, RoomFollower follower, int seed)
    {
        _cluster = cluster;
        _history = history;
        Name = name;
        Follower = follower;
        _random = new Random(seed);
    }

    /// <summary>The client's name in the history ("member" or "member/device").</summary>
    public string Name { get; }

    public RoomFollower Follower { get; }

    public TestRoom Room => Follower.Room;

    /// <summary>Connections lost and re-established during the run.</summary>
    public int Reconnects { get; private set; }

    /// <summary>Joins a fresh member (or another device of <paramref name="memberId"/>) through <paramref name="via"/>.</summary>
    public static async Task<ChaosClient> JoinAsync(ClusterFixture cluster, History history, TestRoom room, string memberId, Uri via, int seed, string? device = null)
    {
        var token = await cluster.TokenAsync(room, memberId);
        history.AddSecret(token);
        var follower = new RoomFollower(room, memberId, token, await HubTestClient.ConnectAsync(via, token));
        try
        {
            await follower.JoinAsync(resume: false);
        }
        catch
        {
            await follower.DisposeAsync();
            throw;
        }

        return new ChaosClient(cluster, history, device is null ? memberId : $"{memberId}/{device}", follower, seed);
    }

    /// <summary>Random writes until <paramref name="stop"/> says so, at most <paramref name="maxOps"/>, paced.</summary>
    public async Task RunAsync(Func<bool> stop, int maxOps, TimeSpan pacing)
    {
        var menu = ContractServer.Menu;
        for (var i = 0; i < maxOps && !stop(); i++)
        {
            if (!await EnsureConnectedAsync(stop))
            {
                return;
            }

            var item = menu[_random.Next(menu.Length)].Id;
            if (_random.Next(3) == 0)
            {
                var delta = _random.Next(1, 5) * (_random.Next(2) == 0 ? 1 : -1);
                await WriteAsync("AdjustChoice", item, delta, NextOpId());
            }
            else
            {
                await WriteAsync("SetChoice", item, _random.Next(0, 7), NextOpId());
            }

            await Task.Delay(pacing);
        }
    }

    /// <summary>A fresh opId of this client: "name-n" (a '/' of a device name is kept; opIds are printable ASCII).</summary>
    public string NextOpId() => $"{Name}-{Interlocked.Increment(ref _next)}";

    /// <summary>One write, its fate recorded in the history (and returned).</summary>
    public async Task<OpRecord> WriteAsync(string method, string menuId, int value, string opId)
    {
        var replica = Follower.Joins.Count > 0 ? Follower.Replica : null;
        OpOutcome outcome;
        try
        {
            var result = await Follower.Client.InvokeWithTimeoutAsync(method, CallTimeout, Room.Id, menuId, value, opId);
            var ack = HubJson.Deserialize<ChoiceAck>(method, result);
            outcome = OpOutcome.Ok(ack.Version, ack.Quantity);
        }
        catch (HubErrorException ex)
        {
            // unavailable: the store deadline passed, possibly after Redis ran the script.
            outcome = ex.Code == RoomErrorCodes.Unavailable ? OpOutcome.Unknown(ex.Code) : OpOutcome.Failed(ex.Code);
        }
        catch (TimeoutException)
        {
            outcome = OpOutcome.Unknown("client-timeout");
        }
        catch (InvalidOperationException ex)
        {
            outcome = OpOutcome.Unknown("connection-lost: " + ex.Message[..Math.Min(60, ex.Message.Length)]);
        }

        return _history.Record(Name, Room.Id, Follower.MemberId, method, menuId, value, opId, replica, outcome);
    }

    /// <summary>
    /// Reconnects (through nginx, with <c>Join(since)</c>) while the connection is closed or the last
    /// resume failed; false when <paramref name="stop"/> said so first. Bounded in attempts.
    /// </summary>
    public async Task<bool> EnsureConnectedAsync(Func<bool> stop)
    {
        for (var attempt = 0; !_joined || Follower.Client.Closed.IsCompleted; attempt++)
        {
            if (stop() || attempt >= MaxReconnectAttempts)
            {
                return false;
            }

            try
            {
                _joined = false;
                await Follower.ReconnectAsync(_cluster.BaseUrl);
                _joined = true;
                Reconnects++;
            }
            catch (Exception ex) when (ex is HubConnectException or HubErrorException or TimeoutException or InvalidOperationException or WebSocketException)
            {
                await Task.Delay(ReconnectPause);
            }
        }

        return true;
    }

    /// <summary>
    /// Brings the client to <paramref name="version"/> like a real one after trouble: reconnects if it
    /// must, then follows with catch-up (a gap or a <c>Position</c> ahead → <c>Join(since)</c>).
    /// </summary>
    public async Task CatchUpAsync(long version, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var attempt = 1; ; attempt++)
        {
            if (!await EnsureConnectedAsync(() => DateTime.UtcNow > deadline))
            {
                throw new TimeoutException($"{Name} could not reconnect within {timeout.TotalSeconds:0}s");
            }

            try
            {
                await Follower.FollowUntilAsync(version, deadline - DateTime.UtcNow, catchUp: true);
                return;
            }
            catch (InvalidOperationException) when (Follower.Client.Closed.IsCompleted && attempt < 5)
            {
                // The connection closed while catching up: reconnect and go on.
            }
        }
    }

    /// <summary>What the checker needs of this client.</summary>
    public ClientView View() => new(
        Name,
        Room.Id,
        Follower.FirstJoinVersion,
        Follower.Version,
        Follower.Applied.Select(e => e.Version).ToList(),
        new Dictionary<string, int>(Follower.Choices, StringComparer.Ordinal));

    public ValueTask DisposeAsync() => Follower.DisposeAsync();

    public override string ToString() => $"{Name} ({Follower})";
}
