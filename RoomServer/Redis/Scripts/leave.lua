-- leave.lua — a connection left the room (Leave, or disconnect).
-- ARGV 4 presence field c:<replica>:<connection>
-- Effects: the connection's entry removed; if its member has no other live connection and is
--   announced online, the member's grace period starts (g:<member> = now, kept if already set).
--   sweep.lua announces them offline once the grace has passed. No event. Reply: {'ok'}.
local entry = redis.call('HGET', PRESENCE, ARGV[4])
if not entry then return {'ok'} end
redis.call('HDEL', PRESENCE, ARGV[4])
local member = member_of(entry)
local now = now_ms()
if redis.call('HEXISTS', PRESENCE, 'm:' .. member) == 1 and not has_live_connection(member, now) then
  redis.call('HSETNX', PRESENCE, 'g:' .. member, int(now))
end
return {'ok'}
