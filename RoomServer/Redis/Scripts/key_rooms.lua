-- key_rooms.lua — the live rooms of one API key (RoomServer__Limits__MaxRoomsPerApiKey). Not prefixed
-- with prelude.lua: it touches no room, only its own key, which has a hash tag of its own (a room's
-- script can reach only its room's slot, so this count lives beside the rooms, kept in steps).
-- KEYS 1 rs:key:{<keyId>}:rooms  sorted set  roomId → the room's expiry as last seen (Unix ms)
-- ARGV 1 operation:
--   'stale'   ARGV 2 now ms  3 at most N          → {roomId...} whose recorded expiry has passed
--   'reserve' ARGV 2 roomId  3 expiry ms  4 max  → {'ok'} recorded, or {'full'} (the key has max); a
--                                                  room it holds already is re-scored, never counted twice
--                                                  (a retried create under an Idempotency-Key reserves its room again)
--   'hold'    ARGV 2 roomId  3 expiry ms          → {'ok'}: recorded without the limit check if not held (a
--                                                  keyed retry's room that a request alongside forgot)
--   'keep'    ARGV 2 roomId  3 expiry ms          → {'ok'}: a stale room that is still there, re-scored
--   'release' ARGV 2 roomId  3 now ms (optional)  → {'ok'}: forgotten (deleted, never created, gone); with a
--                                                  now (the prune's), only while its expiry is still at or
--                                                  before it: a create that re-dated the room since (a keyed
--                                                  retry making it at last) keeps its place
-- The set has no expiry: a busy room's TTL moves on with every change, past the expiry recorded here,
-- so a set timed by its entries could vanish while its rooms live, and the key's count start again at
-- 0. Entries leave by the prune ('stale', then 'keep' or 'release'); Redis drops the set once empty.
-- A key that stops creating rooms keeps at most MaxRoomsPerApiKey ids until it creates again. PERSIST
-- takes off the expiry an older RoomServer gave the set.
local KEY, op = KEYS[1], ARGV[1]
if op == 'stale' then
  return redis.call('ZRANGEBYSCORE', KEY, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
elseif op == 'reserve' then
  if not redis.call('ZSCORE', KEY, ARGV[2]) and redis.call('ZCARD', KEY) >= tonumber(ARGV[4]) then return {'full'} end
  redis.call('ZADD', KEY, ARGV[3], ARGV[2])
  redis.call('PERSIST', KEY)
  return {'ok'}
elseif op == 'hold' then
  redis.call('ZADD', KEY, 'NX', ARGV[3], ARGV[2])
  redis.call('PERSIST', KEY)
  return {'ok'}
elseif op == 'keep' then
  redis.call('ZADD', KEY, 'XX', ARGV[3], ARGV[2])
  redis.call('PERSIST', KEY)
  return {'ok'}
elseif op == 'release' then
  if ARGV[3] then
    local expiry = redis.call('ZSCORE', KEY, ARGV[2])
    if not expiry or tonumber(expiry) > tonumber(ARGV[3]) then return {'ok'} end
  end
  redis.call('ZREM', KEY, ARGV[2])
  return {'ok'}
end
return {'unknown_operation'}
