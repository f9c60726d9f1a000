-- join.lua — a connection joins: register the member, mark the connection live, answer the resume.
-- ARGV 4 memberId  5 displayName  6 presence field c:<replica>:<connection>  7 lease ms
--      8 since epoch ('' = fresh join)  9 since version  10 presence grace ms  11 role (member|owner)
--      12 the token's removal generation (claim rgen, 0 if absent)  13 max members per room
--      14 max connections per member  15 the most bytes of missed events to replay (a connection's
--      outgoing bound: a member dropped for its backlog resumes from a snapshot, not by taking it in one reply)
-- Checks: room exists (room_not_found); the member was not removed after the token was issued
--   (forbidden); a new member of a room (not closed) that has max members → {'room_full'}; the member
--   has max live connections besides this one (any replica's) → {'too_many_connections'}.
-- Effects: first join of a member (room not closed) → 'member' event; connection lease set; the
--   member's grace mark cleared; if a member not announced online → m:<member> set and presence online
--   published (a first-timer in a closed room is no member: not announced); then the room's presence
--   swept (sweep_presence), so what the reply says is current.
-- Reply: {'missed', epoch, version, {event JSON...}, members{id,name,...}, online{id,...}, presenceSeq}
--   (MissedReply)
--   when since has this epoch, is not ahead of the room and at most history length (ARGV 2) behind,
--   the audit trail holds every later event, and their JSON is at most ARGV 15 bytes (missed_events)
--   (members, who is online and the presence sequence let the resuming client refresh presence it
--   missed); otherwise the snapshot_reply().
if not room_exists() then return {'room_not_found'} end
local member, name, field = ARGV[4], ARGV[5], ARGV[6]
if removed_since(member, ARGV[12]) then return {'forbidden'} end
local now = now_ms()
local is_member = redis.call('HEXISTS', MEMBERS, member) == 1
local closed = redis.call('HGET', META, 'state') == 'closed'
if not is_member and not closed and redis.call('HLEN', MEMBERS) >= tonumber(ARGV[13]) then
  return {'room_full'}
end
local open = 0
local entries = redis.call('HGETALL', PRESENCE)
for i = 1, #entries, 2 do
  if string.sub(entries[i], 1, 2) == 'c:' and entries[i] ~= field then
    local m, lease = string.match(entries[i + 1], '^(.*)|(%d+)$')
    if m == member and tonumber(lease) > now then open = open + 1 end
  end
end
if open >= tonumber(ARGV[14]) then return {'too_many_connections'} end
if ARGV[11] == 'owner' then redis.call('HSET', META, 'owner:' .. member, '1') end
if not is_member and not closed then
  redis.call('HSET', MEMBERS, member, name)
  append_event('member', { memberId = member, displayName = name })
  is_member = true
end
redis.call('HSET', PRESENCE, field, member .. '|' .. int(now + tonumber(ARGV[7])))
redis.call('HDEL', PRESENCE, 'g:' .. member)
-- Only members are announced: someone who first comes to a closed room reads it without joining it.
if is_member and redis.call('HSETNX', PRESENCE, 'm:' .. member, '1') == 1 then publish_presence(member, true, name) end
sweep_presence(now, tonumber(ARGV[10]), tonumber(ARGV[7]))
touch()

local epoch = redis.call('HGET', META, 'epoch')
local version = tonumber(redis.call('HGET', META, 'version'))
if ARGV[8] ~= '' and ARGV[8] == epoch then
  local since = tonumber(ARGV[9])
  if since ~= nil and since <= version then
    local missed = missed_events(since, version, tonumber(ARGV[15]))
    if missed then
      return {'missed', epoch, int(version), missed, redis.call('HGETALL', MEMBERS), online_members(), presence_seq()}
    end
  end
end
return snapshot_reply()
