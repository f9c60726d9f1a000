-- sweep.lua — a replica's periodic tick for one room it has members in.
-- ARGV 4 lease ms  5 grace ms  6.. pairs: presence field of a live connection of this replica, its member
-- Checks: room exists (room_not_found).
-- Effects: the given connections' leases renewed — re-created if another replica swept them while
--   this one could not reach Redis, with the member announced online again (presence published) if
--   it had been announced offline; expired connection entries (a dead replica's) removed; for every
--   announced member: live → grace mark cleared; not live and no grace mark → grace starts now;
--   grace passed → m:/g: removed and presence offline published.
-- Reply: {'ok', epoch, version} — the position the replica sends its members.
if not room_exists() then return {'room_not_found'} end
local now = now_ms()
local lease, grace = tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 6, #ARGV - 1, 2 do
  local field, member = ARGV[i], ARGV[i + 1]
  redis.call('HSET', PRESENCE, field, member .. '|' .. int(now + lease))
  redis.call('HDEL', PRESENCE, 'g:' .. member)
  if redis.call('HSETNX', PRESENCE, 'm:' .. member, '1') == 1 then publish_presence(member, true) end
end
local all = redis.call('HGETALL', PRESENCE)
local live, announced, graceSince = {}, {}, {}
for i = 1, #all, 2 do
  local field, value = all[i], all[i + 1]
  local kind = string.sub(field, 1, 2)
  if kind == 'c:' then
    local m, until_ms = string.match(value, '^(.*)|(%d+)$')
    if tonumber(until_ms) > now then live[m] = true else redis.call('HDEL', PRESENCE, field) end
  elseif kind == 'm:' then
    announced[#announced + 1] = string.sub(field, 3)
  elseif kind == 'g:' then
    graceSince[string.sub(field, 3)] = tonumber(value)
  end
end
for _, m in ipairs(announced) do
  if live[m] then
    if graceSince[m] then redis.call('HDEL', PRESENCE, 'g:' .. m) end
  elseif not graceSince[m] then
    redis.call('HSET', PRESENCE, 'g:' .. m, int(now))
  elseif now - graceSince[m] >= grace then
    redis.call('HDEL', PRESENCE, 'm:' .. m, 'g:' .. m)
    publish_presence(m, false)
  end
end
local meta = redis.call('HMGET', META, 'epoch', 'version')
return {'ok', meta[1], meta[2]}
