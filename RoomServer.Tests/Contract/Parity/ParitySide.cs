using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract.Parity;

/// <summary>
/// One server's side of a parity run: its room, each member's current device (connection), a second device some
/// members keep open beside it (<c>ParitySide.Spare.cs</c>), every device it ever had, and what was answered. Each
/// step's answer is returned normalized (<see cref="ParityJson"/>), so the two sides' answers compare as strings.
/// </summary>
/// <param name="server">The server its room is on.</param>
/// <param name="messagePack">Its devices speak SignalR's MessagePack protocol instead of JSON (DESIGN.md §3: the same shapes).</param>
internal sealed partial class ParitySide(ContractServer server, bool messagePack = false) : IAsyncDisposable
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Longer than the server waits before it closes a removed member's devices (RemovedMemberEviction, 400 ms).</summary>
    private static readonly TimeSpan RemovalCloseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Each device slot's open device: a member's id for its current device, <see cref="SpareSlot"/> for its second.</summary>
    private readonly Dictionary<string, HubTestClient?> _devices = new(StringComparer.Ordinal);
    private readonly List<(string Name, string Member, HubTestClient Client)> _everyDevice = [];
    private readonly HashSet<string> _joined = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _tokenRoles = new(StringComparer.Ordinal);

    /// <summary>Device slots a successful removal left open past <see cref="RemovalCloseTimeout"/> in the last step.</summary>
    private readonly List<string> _leftOpen = [];

    /// <summary>
    /// Where each device's <c>Join</c> put it: events at or below are in its snapshot or missed list (one may still
    /// arrive live, and the client drops it), so the device has caught up to at least there.
    /// </summary>
    private readonly Dictionary<HubTestClient, long> _joinedAt = [];

    /// <summary>Devices the server may have closed: their member was removed, or a call of theirs was answered <c>forbidden</c>.</summary>
    private readonly HashSet<HubTestClient> _mayBeClosed = [];
    private TestRoom _room = null!;
    private ParityRoomApi _api = null!;

    /// <summary>The room's version as its last snapshot read it.</summary>
    public long Version { get; private set; }

    /// <summary>Answers that succeeded (a call's result or a 2xx), to show a script did more than be refused.</summary>
    public int Succeeded { get; private set; }

    /// <summary>Makes the room and connects every member's first device; the answers, one per member.</summary>
    public async Task<string> StartAsync()
    {
        _room = await server.CreateRoomAsync();
        _api = new ParityRoomApi(server, _room);
        var answers = new List<string>();
        foreach (var (member, role) in ParityScript.Members)
        {
            answers.Add(await ConnectAsync(member, role));
        }

        return string.Join(", ", answers);
    }

    /// <summary>The devices of a member removed in the last step that the server did not close (DESIGN.md §3 <c>Removed</c>: within a second).</summary>
    public string LeftOpenAfterRemoval => string.Join(",", _leftOpen);

    public async Task<string> ApplyAsync(ParityOp op)
    {
        _leftOpen.Clear();
        var outcome = op.Kind switch
        {
            ParityOpKind.NewDevice => await NewDeviceAsync(op),
            ParityOpKind.PostNotice => await _api.PostNoticeAsync(op.A, op.B as string),
            ParityOpKind.PutState => await _api.PutStateAsync(op.A),
            ParityOpKind.DeleteMember => await _api.DeleteMemberAsync(op.A),
            ParityOpKind.ReadTrail => await _api.ReadTrailAsync(op.A, op.B, Version),
            ParityOpKind.ReadOrder => await _api.ReadOrderAsync(),
            ParityOpKind.ReadAsMember => await _api.ReadAsMemberAsync(_tokens[op.Actor], trail: Equals(op.A, "trail")),
            ParityOpKind.DeleteRoom => await _api.DeleteRoomAsync(),
            ParityOpKind.SpareDevice => await SpareDeviceAsync(op),
            _ => await InvokeAsync(op),
        };
        var answer = outcome.Split(" | ")[^1]; // after a Join made first
        if (answer.StartsWith("ok", StringComparison.Ordinal) || answer.StartsWith("HTTP 2", StringComparison.Ordinal))
        {
            Succeeded++;
            await AfterRemovalAsync(op);
        }

        return outcome;
    }

    /// <summary>The room as the API reads it, normalized (presence left out: <see cref="PresenceAsync"/>).</summary>
    public async Task<string> SnapshotAsync()
    {
        var (snapshot, answer) = await _api.ReadRoomAsync();
        if (snapshot is { } room)
        {
            Version = room.GetProperty("version").GetInt64();
        }

        return answer;
    }

    /// <summary>Who the room says is online, and its presence sequence.</summary>
    public async Task<string> PresenceAsync()
    {
        var (snapshot, answer) = await _api.ReadRoomAsync();
        if (snapshot is not { } room)
        {
            return answer;
        }

        var online = room.GetProperty("members").EnumerateArray()
            .Select(m => $"{m.GetProperty("memberId").GetString()}:{(m.GetProperty("online").GetBoolean() ? "on" : "off")}");
        return $"{string.Join(" ", online)} seq {room.GetProperty("presenceSeq").GetInt64()}";
    }

    /// <summary>
    /// Waits until every joined device has received the room's events up to <see cref="Version"/>, so the next
    /// step starts from the same place on both sides. Returns the devices that did not (normally none).
    /// </summary>
    public async Task<string> SettleAsync()
    {
        var behind = new List<string>();
        foreach (var member in _joined.Order(StringComparer.Ordinal))
        {
            if (_devices[member] is not { } device || device.Closed.IsCompleted)
            {
                continue;
            }

            if (!await WaitAsync(() => device.Closed.IsCompleted || KnownVersion(device) >= Version, SettleTimeout))
            {
                behind.Add($"{member} at {KnownVersion(device)} of {Version}");
            }
        }

        return behind.Count == 0 ? "settled" : "behind: " + string.Join(", ", behind);
    }

    /// <summary>
    /// Gives each open device a moment to receive the room's newest event live, even one at its own Join's position
    /// (which a Redis server sends through its channel, after the Join's answer): before a device is replaced and
    /// before the streams are compared. Best effort; a device with nothing more to come just waits it out.
    /// </summary>
    public async Task DrainAsync()
    {
        foreach (var device in _devices.Values.OfType<HubTestClient>())
        {
            await DrainAsync(device, Version);
        }
    }

    /// <summary>Members whose current device is closed although nothing in the script allowed it (DESIGN.md §5: bad input never closes a connection).</summary>
    public string UnexpectedlyClosed() =>
        string.Join(",", _devices.Where(d => d.Value is { } device && device.Closed.IsCompleted && !_mayBeClosed.Contains(device)).Select(d => d.Key).Order(StringComparer.Ordinal));

    /// <summary>Which members' current devices the server has closed.</summary>
    public string ClosedDevices() =>
        string.Join(",", _devices.Where(d => d.Value?.Closed.IsCompleted == true).Select(d => d.Key).Order(StringComparer.Ordinal));

    /// <summary>
    /// Every device's room events, in the order received, normalized: one line per device. A device's last event is left
    /// out when it is its own member's removal: that event is not promised to the removed member's devices. Each replica
    /// closes them after whichever it hears first, the event, the removal's broadcast or its tick's sweep (DESIGN.md §3
    /// <c>Removed</c>), so on Redis the close can come before the event reaches them; embedded mode delivers it first.
    /// </summary>
    public IReadOnlyList<string> EventStreams() =>
        _everyDevice.Select(d => $"{d.Name}: " + string.Join(" ", WithoutOwnRemovalLast(d.Client.Received("RoomEvent"), d.Member).Select(e => ParityJson.Normalize(e, _room.Id, _room.Epoch)))).ToList();

    private static IEnumerable<JsonElement> WithoutOwnRemovalLast(IReadOnlyList<JsonElement> events, string member) =>
        events.Count > 0 && events[^1].GetProperty("type").GetString() == "member_removed" && events[^1].GetProperty("memberId").GetString() == member
            ? events.Take(events.Count - 1)
            : events;

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, _, client) in _everyDevice)
        {
            await client.DisposeAsync();
        }
    }

    private static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(5);
        }

        return true;
    }

    /// <summary>Only a device whose Join's own position has not come live yet can have anything still on its way.</summary>
    private Task<bool> DrainAsync(HubTestClient device, long version) =>
        LastReceived(device) >= _joinedAt.GetValueOrDefault(device)
            ? Task.FromResult(true)
            : WaitAsync(() => device.Closed.IsCompleted || LastReceived(device) >= version, TimeSpan.FromMilliseconds(300));

    private static long LastReceived(HubTestClient device) =>
        device.Received("RoomEvent").Select(e => e.GetProperty("version").GetInt64()).DefaultIfEmpty(0).Max();

    private long KnownVersion(HubTestClient device) =>
        Math.Max(LastReceived(device), _joinedAt.GetValueOrDefault(device));

    private async Task<string> InvokeAsync(ParityOp op)
    {
        var prefix = "";
        if (op.FromSpare && OpenSpare(op.Actor) is not null)
        {
            op = op with { Actor = SpareSlot(op.Actor) };
            prefix = "from the spare | ";
        }

        if (_devices[op.Actor] is not { } device)
        {
            return "no device";
        }

        if (op.JoinFirst && !_joined.Contains(op.Actor) && !device.Closed.IsCompleted)
        {
            prefix += "joined first: " + await InvokeAsync(new ParityOp(op.Index, ParityOpKind.Join, op.Actor, SinceKind.Null)) + " | ";
        }

        return prefix + await InvokeCallAsync(op, device);
    }

    private async Task<string> InvokeCallAsync(ParityOp op, HubTestClient device)
    {
        var (method, args) = op.Kind switch
        {
            ParityOpKind.Join => ("Join", new[] { _room.Id, Since((SinceKind)op.A!) }),
            ParityOpKind.Leave => ("Leave", [_room.Id]),
            ParityOpKind.Refresh => ("Refresh", [_room.Id]),
            ParityOpKind.SetChoice => ("SetChoice", [_room.Id, op.A, op.B, op.C]),
            ParityOpKind.AdjustChoice => ("AdjustChoice", [_room.Id, op.A, op.B, op.C]),
            ParityOpKind.RemoveMember => ("RemoveMember", [_room.Id, op.A]),
            ParityOpKind.SetRoomState => ("SetRoomState", [_room.Id, op.A]),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "not a hub call"),
        };

        string outcome;
        JsonElement result;
        try
        {
            result = await device.InvokeAsync(method, args);
            outcome = "ok " + ParityJson.Normalize(result, _room.Id, _room.Epoch);
        }
        catch (HubErrorException ex)
        {
            if (ex.Code == "forbidden")
            {
                _mayBeClosed.Add(device); // forbidden ends a removed member's membership, and its connection
                if (ex.ErrorText.Contains("was removed", StringComparison.Ordinal))
                {
                    // The server closes it after answering; let that happen before the next step, on both sides alike.
                    await WaitAsync(() => device.Closed.IsCompleted, RemovalCloseTimeout);
                }
            }

            return "error " + ParityJson.Normalize(ex.ErrorText, _room.Id, _room.Epoch);
        }
        catch (InvalidOperationException)
        {
            return "closed";
        }

        if (op.Kind == ParityOpKind.Join)
        {
            _joined.Add(op.Actor);
            _joinedAt[device] = result.GetProperty("position").GetProperty("version").GetInt64();
        }
        else if (op.Kind == ParityOpKind.Leave)
        {
            _joined.Remove(op.Actor);
        }

        return outcome;
    }

    private object? Since(SinceKind kind) => kind switch
    {
        SinceKind.Null => null,
        SinceKind.Current => new { epoch = _room.Epoch, version = Version },
        SinceKind.TwoBehind => new { epoch = _room.Epoch, version = Math.Max(0, Version - 2) },
        SinceKind.PastHistory => new { epoch = _room.Epoch, version = Math.Max(0, Version - ContractServer.HistoryLength - 3) },
        SinceKind.Ahead => new { epoch = _room.Epoch, version = Version + 5 },
        SinceKind.OtherEpoch => new { epoch = "0123456789abcdef", version = 1 },
        SinceKind.NotAnObject => "since",
        SinceKind.NoVersion => new { epoch = _room.Epoch },
        SinceKind.NegativeVersion => new { epoch = _room.Epoch, version = -1 },
        SinceKind.TextVersion => new { epoch = _room.Epoch, version = "3" },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private async Task<string> NewDeviceAsync(ParityOp op)
    {
        if (_devices[op.Actor] is { } old)
        {
            _joined.Remove(op.Actor);
            await DrainAsync(old, Version);
            await old.DisposeAsync();
        }

        var role = ParityScript.Members.First(m => m.Member == op.Actor).Role;
        if (Equals(op.A, "flipped"))
        {
            role = role == "owner" ? "member" : "owner";
        }

        return await ConnectAsync(op.Actor, role);
    }

    private async Task<string> ConnectAsync(string member, string role)
    {
        try
        {
            var (token, refusal) = await _api.IssueTokenAsync(member, role);
            if (token is null)
            {
                _devices[member] = null;
                return refusal;
            }

            _tokens[member] = token;
            _tokenRoles[member] = role;
            var device = await server.ConnectAsync(token, o => o.MessagePack = messagePack);
            _devices[member] = device;
            Track(member, role, device);
            return "connected as " + role;
        }
        catch (HubConnectException ex)
        {
            _devices[member] = null;
            return $"refused {(int?)ex.StatusCode}";
        }
    }

    /// <summary>Keeps the device for the event streams' comparison, named by its slot, its number in that slot and its token's role.</summary>
    private void Track(string slot, string role, HubTestClient device)
    {
        var number = _everyDevice.Count(d => d.Name.StartsWith(slot + "#", StringComparison.Ordinal)) + 1;
        _everyDevice.Add(($"{slot}#{number} ({role})", MemberOf(slot), device));
    }

    /// <summary>A removed member is no longer joined, and its devices are closed soon after (DESIGN.md §3 <c>Removed</c>).</summary>
    private async Task AfterRemovalAsync(ParityOp op)
    {
        if (op.Kind is not (ParityOpKind.RemoveMember or ParityOpKind.DeleteMember) || op.A is not string target)
        {
            return;
        }

        foreach (var slot in new[] { target, SpareSlot(target) })
        {
            if (_devices.GetValueOrDefault(slot) is not { } device)
            {
                continue;
            }

            // Every connection of a removed member is closed within a second, joined or not (DESIGN.md §3 Removed; a
            // repeat of a removal closes those made since with a token it now refuses): every device open here has such
            // a token. Wait for it, or one side may close it before the next step and the other within it.
            _mayBeClosed.Add(device);
            if (await WaitAsync(() => device.Closed.IsCompleted, RemovalCloseTimeout))
            {
                _joined.Remove(slot);
            }
            else
            {
                _leftOpen.Add(slot);
            }
        }
    }
}
