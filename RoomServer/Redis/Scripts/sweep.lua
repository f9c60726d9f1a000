-- sweep.lua — a replica's periodic tick for one room it has members in.
-- ARGV 4 lease ms  5 grace ms  6.. pairs: presence field of a live connection of this replica, its member
-- Checks: room exists (room_not_found).
-- Effects: the given connections' leases renewed — re-created if another replica swept them while
--   this one could not reach Redis, with the member announced online again (presence published) if
--   it had been announced offline (not for a removed member whose lease remove.lua dropped); then
--   sweep_presence (expired leases dropped, grace, offline).
-- Reply: {'ok', epoch, version} (PositionReply) — the position the replica sends its members.
if not room_exists() then return {'room_not_found'} end
local now = now_ms()
local lease, grace = tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 6, #ARGV - 1, 2 do
  local field, member = ARGV[i], ARGV[i + 1]
  -- A removed member's lease is gone for good (remove.lua): their connections, about to be closed,
  -- must not bring it back.
  local removed = redis.call('HEXISTS', PRESENCE, field) == 0 and redis.call('HEXISTS', META, 'removed:' .. member) == 1
  if not removed then
    redis.call('HSET', PRESENCE, field, member .. '|' .. int(now + lease))
    redis.call('HDEL', PRESENCE, 'g:' .. member)
    if redis.call('HSETNX', PRESENCE, 'm:' .. member, '1') == 1 then publish_presence(member, true) end
  end
end
sweep_presence(now, grace)
-- A renewal may have re-created the presence key (if a sweep had emptied it): keep it expiring with
-- the room, without extending the room itself (ticks are not activity).
local ttl = redis.call('PTTL', META)
if ttl > 0 then redis.call('PEXPIRE', PRESENCE, ttl) end
local meta = redis.call('HMGET', META, 'epoch', 'version')
return {'ok', meta[1], meta[2]}
