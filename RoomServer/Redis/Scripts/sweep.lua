-- sweep.lua — a replica's periodic tick for one room it has members in.
-- ARGV 4 lease ms  5 grace ms  6.. triples: presence field of a live connection of this replica, its
--      member, the removal generation of the token it joined with (claim rgen, 0 if absent)
-- Checks: room exists (room_not_found).
-- Effects: the given connections' leases renewed — re-created if another replica swept them while
--   this one could not reach Redis, with the member announced online again (presence published) if
--   it had been announced offline (not for a connection whose member was removed after its token was
--   issued: remove.lua dropped its lease for good); then sweep_presence (expired leases dropped,
--   grace, offline).
-- Reply: {'ok', epoch, version, field...} (SweepReply) — the position the replica sends its members,
--   then the given connections whose member was removed after their token was issued: the replica
--   closes them, should it have missed the member_removed event that would have (pub/sub loses
--   messages in an outage).
if not room_exists() then return {'room_not_found'} end
local now = now_ms()
local lease, grace = tonumber(ARGV[4]), tonumber(ARGV[5])
local removed_connections = {}
for i = 6, #ARGV - 2, 3 do
  local field, member = ARGV[i], ARGV[i + 1]
  -- A removed member's lease is gone for good (remove.lua): their connections, about to be closed,
  -- must not bring it back. A member re-admitted since joined with a newer token: theirs may.
  local removed = redis.call('HEXISTS', PRESENCE, field) == 0 and removed_since(member, ARGV[i + 2])
  if removed then
    removed_connections[#removed_connections + 1] = field
  else
    redis.call('HSET', PRESENCE, field, member .. '|' .. int(now + lease))
    redis.call('HDEL', PRESENCE, 'g:' .. member)
    -- Only members are announced (join.lua): not a first-timer reading a closed room.
    if redis.call('HEXISTS', PRESENCE, 'm:' .. member) == 0 and redis.call('HEXISTS', MEMBERS, member) == 1 then
      redis.call('HSET', PRESENCE, 'm:' .. member, '1')
      publish_presence(member, true)
    end
  end
end
sweep_presence(now, grace, lease)
-- A renewal may have re-created the presence key (if a sweep had emptied it): keep it expiring with
-- the room, without extending the room itself (ticks are not activity).
local ttl = redis.call('PTTL', META)
if ttl > 0 then redis.call('PEXPIRE', PRESENCE, ttl) end
local meta = redis.call('HMGET', META, 'epoch', 'version')
local reply = {'ok', meta[1], meta[2]}
for _, field in ipairs(removed_connections) do reply[#reply + 1] = field end
return reply
