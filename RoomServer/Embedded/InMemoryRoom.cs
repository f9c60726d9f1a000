using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>
/// One room's state in embedded mode. Not thread-safe: <see cref="InMemoryRoomStore"/> calls it under
/// the room's lock, which is what makes each change atomic and publication ordered. Mirrors the Redis
/// scripts step for step (same checks in the same order), so both modes pass one contract suite.
/// </summary>
internal sealed class InMemoryRoom(NewRoom definition, int historyLength, int auditLength, int idempotencyWindow, int maxQuantity, RoomLimits limits, TimeProvider time)
{
    private readonly MemberOpBuckets _memberOps = new(limits.MemberOps, time);
    private readonly Dictionary<string, long> _prices = definition.Menu.ToDictionary(m => m.Id, m => m.PriceMinor, StringComparer.Ordinal);
    private readonly Dictionary<string, string> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<(string MemberId, string MenuId), int> _choices = [];
    private readonly Queue<RoomEvent> _audit = new();
    private readonly Dictionary<string, ChoiceAck> _ops = new(StringComparer.Ordinal);
    private readonly Queue<string> _opOrder = new();
    private readonly Dictionary<string, (string MemberId, DateTimeOffset LeaseUntil)> _connections = new(StringComparer.Ordinal);
    private readonly HashSet<string> _online = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _graceStarted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _removalGenerations = new(StringComparer.Ordinal);
    private long _presenceSeq;

    public string Id => definition.RoomId;

    public string Epoch => definition.Epoch;

    public long Version { get; private set; }

    public string State { get; private set; } = RoomStates.Open;

    public DateTimeOffset ExpiresAt { get; private set; }

    public RoomPosition Position => new(Epoch, Version);

    public void Touch(DateTimeOffset now) => ExpiresAt = now + definition.Ttl;

    /// <summary>The room as it is, with presence swept first (like snapshot.lua).</summary>
    public RoomSnapshot Snapshot(DateTimeOffset now, TimeSpan lease, TimeSpan grace, List<BackplaneMessage> published)
    {
        SweepPresence(now, lease, grace, published);
        return SnapshotNow();
    }

    public JoinOutcome Join(JoinRequest request, DateTimeOffset now, TimeSpan lease, TimeSpan grace, List<BackplaneMessage> published)
    {
        RefuseIfRemoved(request.MemberId, request.TokenRemovalGeneration);
        RefuseOverLimits(request, now);
        if (request.Role == RoomRoles.Owner)
        {
            _owners.Add(request.MemberId);
        }

        if (!_members.ContainsKey(request.MemberId) && State != RoomStates.Closed)
        {
            _members[request.MemberId] = request.DisplayName;
            published.Add(Append(RoomEventTypes.Member, request.At, e => e with { MemberId = request.MemberId, DisplayName = request.DisplayName }));
        }

        _connections[request.Connection.Field] = (request.MemberId, now + lease);
        _graceStarted.Remove(request.MemberId);

        // Only members are announced: someone who first comes to a closed room reads it without joining it.
        if (_members.ContainsKey(request.MemberId) && _online.Add(request.MemberId))
        {
            published.Add(Announce(request.MemberId, true, request.DisplayName));
        }

        SweepPresence(now, lease, grace, published);
        return MissedSince(request.Since) is { } missed
            ? new JoinOutcome(Position, null, missed, SnapshotAssembler.Presence(_members.Select(m => (m.Key, m.Value)), _online), _presenceSeq)
            : new JoinOutcome(Position, SnapshotNow(), null);
    }

    /// <summary>choice_replay.lua: a known opId's original result, or null.</summary>
    public ChoiceAck? ReplayChoice(ChoiceReplay replay)
    {
        RefuseIfRemoved(replay.MemberId, replay.TokenRemovalGeneration);
        return _ops.TryGetValue($"{replay.MemberId}:{replay.OpId}", out var original) ? original : null;
    }

    /// <summary>Whether the member's opId is in the idempotency window (its change would be answered from it).</summary>
    public bool KnowsOp(string memberId, string opId) => _ops.ContainsKey($"{memberId}:{opId}");

    public ChoiceAck ChangeChoice(ChoiceChange change, List<BackplaneMessage> published)
    {
        RefuseIfRemoved(change.MemberId, change.TokenRemovalGeneration);
        var opKey = change.OpId is null ? null : $"{change.MemberId}:{change.OpId}";
        if (opKey is not null && _ops.TryGetValue(opKey, out var original))
        {
            return original;
        }

        if (RoomStates.ChoiceRejection(State) is { } rejection)
        {
            throw RoomException.FromCode(rejection, Id);
        }

        if (!_prices.ContainsKey(change.MenuId))
        {
            throw RoomException.FromCode(RoomErrorCodes.UnknownMenuItem, Id);
        }

        _memberOps.Take(change.MemberId);

        var key = (change.MemberId, change.MenuId);
        var current = _choices.GetValueOrDefault(key);
        var next = ChoiceRules.Next(current, change.Mode, change.Value, maxQuantity);
        if (next != current)
        {
            if (next == 0)
            {
                _choices.Remove(key);
            }
            else
            {
                _choices[key] = next;
            }

            published.Add(Append(RoomEventTypes.Choice, change.At, e => e with
            {
                MemberId = change.MemberId,
                MenuId = change.MenuId,
                Quantity = next,
                OpId = change.OpId,
            }));
        }

        var ack = new ChoiceAck(Version, next);
        if (opKey is not null)
        {
            Remember(opKey, ack);
        }

        return ack;
    }

    public VersionAck SetState(StateChange change, List<BackplaneMessage> published)
    {
        var target = change.State;
        if (RoomStates.RejectionFor(State, target) is { } rejection)
        {
            throw rejection == RoomErrorCodes.RoomClosed
                ? RoomException.FromCode(rejection, Id)
                : RoomException.Invalid($"a room cannot go from {State} to {target}");
        }

        _memberOps.TakeFor(change.By);
        if (State != target)
        {
            State = target;
            published.Add(Append(RoomEventTypes.State, change.At, e => e with { State = target, By = change.By }));
        }

        return new VersionAck(Version);
    }

    public VersionAck Refresh(RefreshRequest request, List<BackplaneMessage> published)
    {
        RefuseIfRemoved(request.MemberId, request.TokenRemovalGeneration);

        // refresh.lua: closed is final and read only.
        if (State == RoomStates.Closed)
        {
            throw RoomException.FromCode(RoomErrorCodes.RoomClosed, Id);
        }

        _memberOps.Take(request.MemberId);
        published.Add(Append(RoomEventTypes.Refresh, request.At, e => e with { By = request.MemberId }));
        return new VersionAck(Version);
    }

    /// <summary>remove.lua: choices, membership and presence go in one step; old tokens are refused from now on.</summary>
    public RemovalAck RemoveMember(MemberRemoval removal, List<BackplaneMessage> published)
    {
        var present = _members.ContainsKey(removal.MemberId);
        if (!present && RemovalGeneration(removal.MemberId) > 0)
        {
            // Removed before and not back: a retry whose first reply was lost changes nothing anyone sees;
            // it only refuses any token issued since, as a removal does. Before the state check, as remove.lua:
            // a room locked since must not make the retry say the member is still there.
            _memberOps.TakeFor(removal.By);
            _removalGenerations[removal.MemberId] = RemovalGeneration(removal.MemberId) + 1;
            return new RemovalAck(Version, AlreadyRemoved: true);
        }

        // remove.lua: a member the room never had is no member in any state (the 409 is for a member still there).
        if (!present)
        {
            throw RoomException.NotAMember(removal.MemberId);
        }

        // Only an open room: a removal takes the member's choices out of the order.
        if (State is RoomStates.Locked or RoomStates.Closed)
        {
            throw RoomException.FromCode(State == RoomStates.Locked ? RoomErrorCodes.RoomLocked : RoomErrorCodes.RoomClosed, Id);
        }

        if (_owners.Contains(removal.MemberId))
        {
            throw RoomException.OwnerNotRemovable(removal.MemberId);
        }

        _memberOps.TakeFor(removal.By);

        foreach (var key in _choices.Keys.Where(k => k.MemberId == removal.MemberId).ToList())
        {
            _choices.Remove(key);
        }

        foreach (var field in _connections.Where(c => c.Value.MemberId == removal.MemberId).Select(c => c.Key).ToList())
        {
            _connections.Remove(field);
        }

        _online.Remove(removal.MemberId);
        _graceStarted.Remove(removal.MemberId);
        _members.Remove(removal.MemberId);
        _removalGenerations[removal.MemberId] = RemovalGeneration(removal.MemberId) + 1;
        published.Add(Append(RoomEventTypes.MemberRemoved, removal.At, e => e with { MemberId = removal.MemberId, By = removal.By }));
        return new RemovalAck(Version, AlreadyRemoved: false);
    }

    /// <summary>The member's removal generation (0 if never removed; each removal and each repeat raises it): tokens carry the value they were issued with.</summary>
    public long RemovalGeneration(string memberId) => _removalGenerations.GetValueOrDefault(memberId);

    /// <summary>join.lua's limits: a new member of a full room, or one connection too many for the member.</summary>
    private void RefuseOverLimits(JoinRequest request, DateTimeOffset now)
    {
        if (!_members.ContainsKey(request.MemberId) && State != RoomStates.Closed && _members.Count >= limits.MaxMembers)
        {
            throw RoomLimits.RoomFull(limits.MaxMembers);
        }

        var open = _connections.Count(c => c.Key != request.Connection.Field && c.Value.MemberId == request.MemberId && c.Value.LeaseUntil > now);
        if (open >= limits.MaxConnectionsPerMember)
        {
            throw RoomLimits.TooManyConnections(limits.MaxConnectionsPerMember);
        }
    }

    private void RefuseIfRemoved(string memberId, long tokenRemovalGeneration)
    {
        if (tokenRemovalGeneration < RemovalGeneration(memberId))
        {
            throw RoomException.FromCode(RoomErrorCodes.Forbidden, Id);
        }
    }

    public VersionAck Notice(NoticePublication notice, List<BackplaneMessage> published)
    {
        // notice.lua: closed is final and read only; a locked room still takes notices.
        if (State == RoomStates.Closed)
        {
            throw RoomException.FromCode(RoomErrorCodes.RoomClosed, Id);
        }

        published.Add(Append(RoomEventTypes.Notice, notice.At, e => e with { Kind = notice.Kind, Payload = notice.Payload.Clone() }));
        return new VersionAck(Version);
    }

    /// <summary>audit.lua: the events of version ≥ <paramref name="from"/>, oldest first (versions in the trail are dense).</summary>
    public EventPage ReadEvents(long from, int limit)
    {
        if (_audit.Count == 0)
        {
            return EventPage.FromRead([], limit, null);
        }

        var oldest = _audit.Peek().Version;
        var skip = (int)Math.Min(Math.Max(from - oldest, 0), _audit.Count);
        return EventPage.FromRead(_audit.Skip(skip).Take(limit + 1).ToList(), limit, oldest);
    }

    public void MarkDeleted(string at, List<BackplaneMessage> published) =>
        published.Add(Append(RoomEventTypes.State, at, e => e with { State = RoomStates.Deleted, By = MemberOpBuckets.ApiCaller }));

    public void ConnectionLeft(ConnectionKey connection, DateTimeOffset now)
    {
        if (!_connections.Remove(connection.Field, out var left))
        {
            return;
        }

        if (!HasLiveConnection(left.MemberId, now) && _online.Contains(left.MemberId))
        {
            _graceStarted.TryAdd(left.MemberId, now);
        }
    }

    /// <summary>sweep.lua: returns the live connections whose member was removed after their token was issued.</summary>
    public List<LocalConnection> Sweep(IReadOnlyCollection<LocalConnection> live, DateTimeOffset now, TimeSpan lease, TimeSpan grace, List<BackplaneMessage> published)
    {
        var removed = new List<LocalConnection>();
        // Renew, or re-create: a live connection is online whatever happened to its lease meanwhile.
        foreach (var connection in live)
        {
            // A removed member's lease is gone for good: their connections, about to close, must not bring
            // it back. A member re-admitted since joined with a newer token: theirs may.
            if (!_connections.ContainsKey(connection.Key.Field) && connection.TokenRemovalGeneration < RemovalGeneration(connection.MemberId))
            {
                removed.Add(connection);
                continue;
            }

            _connections[connection.Key.Field] = (connection.MemberId, now + lease);
            _graceStarted.Remove(connection.MemberId);
            if (_members.ContainsKey(connection.MemberId) && _online.Add(connection.MemberId))
            {
                published.Add(Announce(connection.MemberId, true, connection.MemberId));
            }
        }

        SweepPresence(now, lease, grace, published);
        return removed;
    }

    /// <summary>
    /// sweep_presence of the scripts: drops expired leases, then for every announced member — live:
    /// grace cleared; not live: grace starts at the end of its last lease (or now; now too when the lease
    /// ended more than a position interval before this sweep noticed it), and once it has passed the
    /// member is announced offline.
    /// </summary>
    private void SweepPresence(DateTimeOffset now, TimeSpan lease, TimeSpan grace, List<BackplaneMessage> published)
    {
        var leaseEnds = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var (field, entry) in _connections.Where(c => c.Value.LeaseUntil <= now).ToList())
        {
            _connections.Remove(field);
            if (!leaseEnds.TryGetValue(entry.MemberId, out var end) || entry.LeaseUntil > end)
            {
                leaseEnds[entry.MemberId] = entry.LeaseUntil;
            }
        }

        foreach (var memberId in _online.ToList())
        {
            if (HasLiveConnection(memberId, now))
            {
                _graceStarted.Remove(memberId);
                continue;
            }

            if (!_graceStarted.TryGetValue(memberId, out var since))
            {
                since = leaseEnds.TryGetValue(memberId, out var end) ? end : now;

                // Noticed more than a position interval (a third of the lease) after it ended: no sweep ran
                // meanwhile, so the grace starts now.
                since = now - since > lease / 3 ? now : since;
                _graceStarted[memberId] = since;
            }

            if (now - since >= grace)
            {
                _graceStarted.Remove(memberId);
                _online.Remove(memberId);
                published.Add(Announce(memberId, false, memberId));
            }
        }
    }

    private PresenceMessage Announce(string memberId, bool online, string fallbackName) =>
        new(new PresenceChange(Id, memberId, DisplayNameOf(memberId, fallbackName), online, ++_presenceSeq));

    /// <summary>The room as it stands, without sweeping presence (an order record reads members, choices and totals only).</summary>
    public RoomSnapshot OrderSnapshot() => SnapshotNow();

    private RoomSnapshot SnapshotNow() => SnapshotAssembler.Build(
        Id,
        definition.Name,
        Position,
        State,
        definition.Menu,
        _members.Select(m => (m.Key, m.Value)),
        _online,
        _choices.Select(c => (c.Key.MemberId, c.Key.MenuId, c.Value)),
        maxQuantity,
        _presenceSeq);

    private List<RoomEvent>? MissedSince(RoomPosition? since)
    {
        if (since is null || since.Epoch != Epoch || since.Version > Version)
        {
            return null;
        }

        // Like join.lua: at most historyLength events, replayed from the audit trail when it holds every
        // one of them (it keeps at least historyLength: the options validator sees to it).
        var missed = Version - since.Version;
        if (missed > historyLength || missed > _audit.Count)
        {
            return null;
        }

        List<RoomEvent> events = missed == 0 ? [] : [.. _audit.Skip(_audit.Count - (int)missed)];
        return WithinCatchUpBudget(events) ? events : null;
    }

    // Like missed_events in prelude.lua: a catch-up larger than a connection's outgoing bound answers a
    // snapshot, so a member dropped for its backlog does not take that backlog again in one reply. Only a
    // Join(since) that is behind pays for it, and it stops at the bound.
    private bool WithinCatchUpBudget(List<RoomEvent> events)
    {
        long bytes = 0;
        foreach (var roomEvent in events)
        {
            bytes += StoredEventSize.Of(roomEvent); // as Redis stores it, so both modes count alike
            if (bytes > limits.MaxMissedBytes)
            {
                return false;
            }
        }

        return true;
    }

    private RoomEventMessage Append(string type, string at, Func<RoomEvent, RoomEvent> fill)
    {
        Version++;
        var roomEvent = fill(new RoomEvent(Id, Epoch, Version, type, at));
        _audit.Enqueue(roomEvent);
        while (_audit.Count > auditLength)
        {
            _audit.Dequeue();
        }

        return new RoomEventMessage(roomEvent);
    }

    private void Remember(string opKey, ChoiceAck ack)
    {
        _ops[opKey] = ack;
        _opOrder.Enqueue(opKey);
        while (_opOrder.Count > idempotencyWindow)
        {
            _ops.Remove(_opOrder.Dequeue());
        }
    }

    private bool HasLiveConnection(string memberId, DateTimeOffset now) =>
        _connections.Values.Any(c => c.MemberId == memberId && c.LeaseUntil > now);

    private string DisplayNameOf(string memberId, string fallback) => _members.GetValueOrDefault(memberId, fallback);
}
