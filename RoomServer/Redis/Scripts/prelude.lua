-- prelude.lua — prepended to every RoomShare script (RedisScripts joins them).
--
-- KEYS, the same for every script, all with the room's {roomId} hash tag (RedisKeys.ForRoom):
--   1 rs:{id}:meta      hash  roomId epoch version state name menu(JSON) ttl(s) created presenceSeq
--                             auditLength,
--                             item:<menuId> = priceMinor, owner:<memberId> = 1 (joined as owner),
--                             removed:<memberId> = removal generation (raised by each removal and each repeat of one)
--   2 rs:{id}:choices   hash  <memberId>:<menuId> = quantity (absent = 0)
--   3 rs:{id}:members   hash  <memberId> = displayName
--   4 rs:{id}:history   list  an older RoomServer's replay list: no longer read (join.lua replays from
--                             the audit trail, 8), deleted by every event (append_event)
--   5 rs:{id}:presence  hash  c:<replica>:<connection> = <memberId>|<leaseUntilMs>
--                             m:<memberId> = 1              (announced online)
--                             g:<memberId> = <sinceMs>      (last connection gone: grace started)
--   6 rs:{id}:ops       hash  <memberId>:<opId> = <version>:<quantity>   (idempotency window)
--   7 rs:{id}:oplog     list  <memberId>:<opId>, oldest first, capped at the window
--   8 rs:{id}:audit     stream every event, entry id <version>-0, field e = event JSON; capped at
--                             meta auditLength (oldest trimmed); read by audit.lua
--   9 rs:{id}:rate      hash  <memberId> = <tokens>:<lastRefillMs>   (member write rate; own expiry,
--                             not touch()ed: it lapses once every bucket in it would be full again,
--                             up to RATE_SLACK_MS + 1 s later; :until = a time (ms) its expiry lasts at
--                             least, take_member_op; delete.lua removes it with the room)
-- ARGV, the same first three for every script:
--   1 publish command and channel: 'PUBLISH rs:{id}:events', or 'SPUBLISH rs:{id}:events' (sharded pub/sub
--     on a Redis Cluster: the channel shares the room's slot)    2 history length (how many events a
--     resuming client may replay, missed_events)    3 "at" (ISO-8601 UTC)
-- Replies are arrays whose first element is 'ok' or an error code of DESIGN.md §5. The C# side
--   reads each shape by named positions (Redis/ScriptReply.cs and its readers: VersionReply,
--   ChoiceReply, PositionReply, MissedReply, SnapshotReply): change a reply and its reader together.
-- Channel messages (RoomChannelProtocol): 'E' .. event JSON (RoomEvent, every field present) or
--                                   'P' .. presence JSON (PresenceChange).
local META, CHOICES, MEMBERS, PRESENCE, OPS, OPLOG = KEYS[1], KEYS[2], KEYS[3], KEYS[5], KEYS[6], KEYS[7]
local PUBLISH, CHANNEL = string.match(ARGV[1], '^(S?PUBLISH) (.+)$')
local HISTORY_LENGTH, AT = tonumber(ARGV[2]), ARGV[3]
local AUDIT = KEYS[8]
-- KEYS 1..ROOM_KEYS are the room's own state: they share its TTL (touch), and create and delete
-- remove them together. A key added after them (e.g. one that must outlive the room) is not.
local ROOM_KEYS = 8
local RATE = KEYS[9]

-- Every message of the room's channel goes out here, with the command ARGV[1] names.
local function publish(message)
  redis.call(PUBLISH, CHANNEL, message)
end

local function q(s)
  if s == nil or s == false then return 'null' end
  return cjson.encode(s)
end

local function int(x)
  if x == nil then return 'null' end
  return string.format('%d', x)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Whether the member was removed after their token was issued: the token's removal generation
-- (claim rgen, 0 if absent) is below meta removed:<member>. Such a token is refused ('forbidden'); a
-- token issued after the removal carries the new generation and re-admits the member. No clock.
local function removed_after(removed, token_generation)
  return removed and tonumber(removed) > tonumber(token_generation)
end

local function removed_since(member, token_generation)
  return removed_after(redis.call('HGET', META, 'removed:' .. member), token_generation)
end

-- A member's write rate (RoomServer__Limits__MemberOpsPerSecond/MemberOpsBurst; Rooms/MemberOpBuckets
-- is embedded mode's twin): takes one token from the member's bucket, refilled at `perSecond` up to
-- `burst` by Redis's own clock, so every replica draws on one bucket. spec = 'perSecond:burst', or ''
-- for a write by the API (limited per API key over HTTP instead). Called after a write's own checks,
-- before it changes anything: false (bucket empty) → the script returns 'rate_limited' and nothing,
-- not even the bucket, was written.
--
-- The key lives until its fullest-to-be bucket would be full again. Its field RATE_LIVES_UNTIL (no member
-- id holds a ':', RoomIds) records the end this script last gave its expiry, which only GT may have made
-- later: a write whose bucket will be full before then leaves the expiry alone, and one that needs longer
-- gives it RATE_SLACK_MS more than it needs, so a busy room's key is extended about once per
-- RATE_SLACK_MS rather than on every write (one call fewer).
local RATE_LIVES_UNTIL, RATE_SLACK_MS = ':until', 5000
local function take_member_op(member, spec)
  if spec == nil or spec == '' then return true end
  local per_second, burst = string.match(spec, '^(%d+):(%d+)$')
  per_second, burst = tonumber(per_second), tonumber(burst)
  local now = now_ms()
  local tokens = burst
  local read = redis.call('HMGET', RATE, member, RATE_LIVES_UNTIL)
  local bucket, lives_until = read[1], tonumber(read[2])
  if bucket then
    local t, last = string.match(bucket, '^([%d.]+):(%d+)$')
    tokens = math.min(burst, tonumber(t) + math.max(0, now - tonumber(last)) * per_second / 1000)
  end
  if tokens < 1 then return false end
  tokens = tokens - 1
  local value = string.format('%.4f', tokens) .. ':' .. int(now)
  local full_at = now + math.ceil((burst - tokens) * 1000 / per_second) + 1000
  if lives_until and full_at <= lives_until then
    redis.call('HSET', RATE, member, value)
    return true
  end
  local until_ms = full_at + RATE_SLACK_MS
  redis.call('HSET', RATE, member, value, RATE_LIVES_UNTIL, int(until_ms))
  -- GT only ever lengthens the expiry (another member's bucket may need longer; an older RoomServer's
  -- writes, without the field, use GT too). GT treats a key without an expiry as never expiring, so a
  -- key without the field, which this HSET may just have created, gets its first one with NX.
  if not lives_until then redis.call('PEXPIREAT', RATE, until_ms, 'NX') end
  redis.call('PEXPIREAT', RATE, until_ms, 'GT')
  return true
end

-- For a reply that acknowledges an earlier write without writing anything itself (a replayed opId): sets
-- a field to the value it holds. That changes nothing, but it is a write, so it replicates; where writes
-- are confirmed (DESIGN §2), the caller's WAIT counts only what its own connection wrote, and replication
-- is in order, so a replica that acknowledges this holds the earlier write too, whichever replica (and
-- connection) made it — one that went unconfirmed and was answered unavailable, then retried here.
local function confirm_earlier(key, field, value)
  redis.call('HSET', key, field, value)
end

-- This master's replication id: a replica promoted to master takes a new one (failover.lua).
local function master_replid()
  return string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)')
end

-- This master's replication id, and whether it was promoted from a replica since it started: it then
-- keeps its old master's id as master_replid2 (all zeros on a master that started as one, or restarted).
-- One INFO for both (failover.lua).
local function replication_ids()
  local info = redis.call('INFO', 'replication')
  return string.match(info, 'master_replid:(%x+)'), string.match(info, 'master_replid2:(%x+)') ~= string.rep('0', 40)
end

local function room_exists()
  return redis.call('EXISTS', META) == 1
end

-- How long a refresh gives the room's keys: the room's TTL and a slack of 1 % of it, 1 to 60 s. So an
-- idle room expires no sooner than its TTL after its last change, and at most the slack later.
local function room_life(ttl)
  return ttl + math.max(1, math.min(60, math.floor(ttl / 100)))
end

-- Every change refreshes the TTL of all the room's keys, so they expire together.
local function touch()
  local life = room_life(tonumber(redis.call('HGET', META, 'ttl')))
  for i = 1, ROOM_KEYS do redis.call('EXPIRE', KEYS[i], life) end
end

-- touch() for the hot write path (choice.lua): while more than the TTL is left, the keys were refreshed
-- within the slack, and skipping the refresh still leaves the room its TTL after this write — one PTTL
-- instead of nine calls, and a busy room's nine about once per slack, not once a second. `created`: the
-- keys the write may have created, which have no TTL at all; a skipped refresh gives each the expiry
-- the room's keys share.
local function touch_unless_fresh(ttl, created)
  local left = redis.call('PTTL', META)
  if left > ttl * 1000 then
    for _, key in ipairs(created) do redis.call('PEXPIRE', key, left) end
    return
  end
  local life = room_life(ttl)
  for i = 1, ROOM_KEYS do redis.call('EXPIRE', KEYS[i], life) end
end

-- Bumps the version, appends the event to the audit trail (its entry id is the version, so the trail
-- pages by version and join.lua replays missed events from it; a room created before the trail
-- existed has no auditLength and keeps as many as HISTORY_LENGTH) and publishes it. Because this runs
-- inside the script, channel order is version order whichever replica wrote it.
-- f: memberId displayName menuId quantity opId state by kind payload(raw JSON)
-- meta: the room's {roomId, epoch, auditLength} if the caller has read them already (choice.lua's
-- one HMGET), else read here.
local function append_event(etype, f, meta)
  meta = meta or redis.call('HMGET', META, 'roomId', 'epoch', 'auditLength')
  local version = redis.call('HINCRBY', META, 'version', 1)
  local json = '{"roomId":' .. q(meta[1]) .. ',"epoch":' .. q(meta[2]) .. ',"version":' .. int(version)
    .. ',"type":' .. q(etype) .. ',"at":' .. q(AT)
    .. ',"memberId":' .. q(f.memberId) .. ',"displayName":' .. q(f.displayName)
    .. ',"menuId":' .. q(f.menuId) .. ',"quantity":' .. int(f.quantity) .. ',"opId":' .. q(f.opId)
    .. ',"state":' .. q(f.state) .. ',"by":' .. q(f.by) .. ',"kind":' .. q(f.kind)
    .. ',"payload":' .. (f.payload or 'null') .. '}'
  redis.call('XADD', AUDIT, 'MAXLEN', int(tonumber(meta[3]) or HISTORY_LENGTH), int(version) .. '-0', 'e', json)
  -- The history list an older RoomServer appended to and replayed from (KEYS[4]) goes with every event:
  -- during a rolling upgrade, or after a rollback, an older join.lua then finds no list (→ a snapshot)
  -- or only the events older replicas appended since, an unbroken run up to this version (→ a right
  -- replay). On a key that is not there (the usual case) DEL costs a lookup.
  redis.call('DEL', KEYS[4])
  publish('E' .. json)
  -- The second: this event may have created the audit key (the room's first event; a room from
  -- before the audit trail, without auditLength, gets its stream from some later event).
  return version, version == 1 or not meta[3]
end

-- The events after version `since` up to `version`, oldest first, when a client that far behind may
-- replay them (at most HISTORY_LENGTH: further behind, a snapshot is less to send) and the audit trail
-- still holds every one of them and their JSON totals at most max_bytes (a connection's outgoing bound:
-- a slow consumer's backlog is not sent back as one reply); else nil (the caller answers a snapshot).
local MISSED_PAGE = 16
local function missed_events(since, version, max_bytes)
  if version - since > HISTORY_LENGTH then return nil end
  -- Page by page: XRANGE copies every entry it returns into Lua, so one read of a slow consumer's
  -- 15 MB backlog held the single-threaded store ~260 ms to answer nil; this stops near max_bytes.
  local events, bytes, from = {}, 0, since + 1
  while from <= version do
    local to = math.min(from + MISSED_PAGE - 1, version)
    local entries = redis.call('XRANGE', AUDIT, int(from) .. '-0', int(to) .. '-0')
    if #entries ~= to - from + 1 then return nil end
    for _, entry in ipairs(entries) do
      bytes = bytes + #entry[2][2]
      if bytes > max_bytes then return nil end
      events[#events + 1] = entry[2][2]
    end
    from = to + 1
  end
  return events
end

-- Presence is not versioned like events, but it is ordered: every announcement takes the next
-- presenceSeq of the room, and snapshots carry the current one, so a client can drop an older
-- announcement that arrives after newer knowledge.
local function publish_presence(member, online, fallback_name)
  local name = redis.call('HGET', MEMBERS, member) or fallback_name or member
  local seq = redis.call('HINCRBY', META, 'presenceSeq', 1)
  local json = '{"roomId":' .. q(redis.call('HGET', META, 'roomId')) .. ',"memberId":' .. q(member)
    .. ',"displayName":' .. q(name) .. ',"online":' .. tostring(online) .. ',"seq":' .. int(seq) .. '}'
  publish('P' .. json)
end

local function presence_seq()
  return int(tonumber(redis.call('HGET', META, 'presenceSeq') or '0'))
end

local function member_of(entry)
  return string.match(entry, '^(.*)|')
end

-- Whether the member has a connection whose lease has not run out.
local function has_live_connection(member, now)
  local all = redis.call('HGETALL', PRESENCE)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'c:' then
      local m, lease = string.match(all[i + 1], '^(.*)|(%d+)$')
      if m == member and tonumber(lease) > now then return true end
    end
  end
  return false
end

-- The members announced online (m:<id>): the room's presence as its Presence events have told it.
local function online_members()
  local online = {}
  local all = redis.call('HGETALL', PRESENCE)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'm:' then online[#online + 1] = string.sub(all[i], 3) end
  end
  return online
end

-- Brings the announced presence up to date: drops expired connection leases (a dead replica's),
-- then for every announced member: a live lease → grace mark cleared; none → grace starts (at the
-- end of its last lease, or now; now too for a lease that ended more than a position interval before
-- this sweep),
-- and once the grace has passed → m:/g: removed, offline published.
-- Run by every replica's tick, and by join and snapshot, so presence is right where it is read even
-- in a room that no replica ticks (its only replica died) — within a grace: a lease found that late
-- starts its grace when found. lease: the presence lease in ms (RoomServerOptions.PresenceLease).
local function sweep_presence(now, grace, lease)
  -- Sweeps come at least once a position interval (the lease is three of them: RoomServerOptions.PresenceLease),
  -- so a lease found expired later than that after it ended was missed: no sweep reached Redis meanwhile.
  local late_after = lease / 3
  local all = redis.call('HGETALL', PRESENCE)
  local live, lease_end, announced, grace_since = {}, {}, {}, {}
  for i = 1, #all, 2 do
    local field, value = all[i], all[i + 1]
    local kind = string.sub(field, 1, 2)
    if kind == 'c:' then
      local m, until_ms = string.match(value, '^(.*)|(%d+)$')
      until_ms = tonumber(until_ms)
      if until_ms > now then
        live[m] = true
      else
        redis.call('HDEL', PRESENCE, field)
        if not lease_end[m] or until_ms > lease_end[m] then lease_end[m] = until_ms end
      end
    elseif kind == 'm:' then
      announced[#announced + 1] = string.sub(field, 3)
    elseif kind == 'g:' then
      grace_since[string.sub(field, 3)] = tonumber(value)
    end
  end
  for _, m in ipairs(announced) do
    if live[m] then
      if grace_since[m] then redis.call('HDEL', PRESENCE, 'g:' .. m) end
    else
      local since = grace_since[m]
      if not since then
        since = lease_end[m] or now
        -- Noticed more than a position interval after it ended: no sweep reached Redis meanwhile (an
        -- outage, every replica cut off), so the lease's replica may be alive and about to renew it once
        -- it reconnects too; the grace starts now. Otherwise a replica back first announced the others'
        -- members offline.
        if now - since > late_after then since = now end
        redis.call('HSET', PRESENCE, 'g:' .. m, int(since))
      end
      if now - since >= grace then
        redis.call('HDEL', PRESENCE, 'm:' .. m, 'g:' .. m)
        publish_presence(m, false)
      end
    end
  end
end

-- {'snapshot', epoch, version, state, name, menuJson, members{id,name,...}, choices{field,qty,...},
--  online{id,...}, presenceSeq}   (read by SnapshotReply)
local function snapshot_reply()
  local meta = redis.call('HMGET', META, 'epoch', 'version', 'state', 'name', 'menu')
  return {'snapshot', meta[1], meta[2], meta[3], meta[4], meta[5],
    redis.call('HGETALL', MEMBERS), redis.call('HGETALL', CHOICES), online_members(), presence_seq()}
end
