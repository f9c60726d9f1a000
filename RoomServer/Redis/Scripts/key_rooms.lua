-- key_rooms.lua — the live rooms of one API key (RoomServer__Limits__MaxRoomsPerApiKey). Not prefixed
-- with prelude.lua: it touches no room, only its own key, which has a hash tag of its own (a room's
-- script can reach only its room's slot, so this count lives beside the rooms, kept in steps).
-- KEYS 1 rs:key:{<keyId>}:rooms  sorted set  roomId → the room's expiry as last seen (Unix ms)
-- ARGV 1 operation:
--   'stale'   ARGV 2 now ms  3 at most N          → {roomId...} whose recorded expiry has passed
--   'reserve' ARGV 2 roomId  3 expiry ms  4 max  → {'ok'} recorded, or {'full'} (the key has max)
--   'keep'    ARGV 2 roomId  3 expiry ms          → {'ok'}: a stale room that is still there, re-scored
--   'release' ARGV 2 roomId                       → {'ok'}: forgotten (deleted, never created, gone)
-- The set expires a minute after the last expiry it holds, so a key that stops creating rooms leaves
-- nothing behind.
local KEY, op = KEYS[1], ARGV[1]
local function expire_after_last()
  local last = redis.call('ZRANGE', KEY, -1, -1, 'WITHSCORES')
  if last[2] then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000
    redis.call('PEXPIRE', KEY, math.max(1000, tonumber(last[2]) - now + 60000))
  end
end
if op == 'stale' then
  return redis.call('ZRANGEBYSCORE', KEY, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
elseif op == 'reserve' then
  if redis.call('ZCARD', KEY) >= tonumber(ARGV[4]) then return {'full'} end
  redis.call('ZADD', KEY, ARGV[3], ARGV[2])
  expire_after_last()
  return {'ok'}
elseif op == 'keep' then
  redis.call('ZADD', KEY, 'XX', ARGV[3], ARGV[2])
  expire_after_last()
  return {'ok'}
elseif op == 'release' then
  redis.call('ZREM', KEY, ARGV[2])
  return {'ok'}
end
return {'unknown_operation'}
