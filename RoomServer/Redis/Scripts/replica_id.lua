-- replica_id.lua — a replica process holds its ReplicaId while it lives: ReplicaIdGuard.
-- Standalone (no prelude). KEYS 1 rs:replica:ID
-- ARGV 1 this process's nonce  2 lease ms  3 this renewal's number  4 'hold' | 'release'
-- The key holds NONCE:NUMBER. It is set (or renewed) only when it is free or already this process's, so of two live
-- processes started with one ReplicaId exactly one holds it; the other sees the holder's number change from one read
-- to the next, which a crashed process's leftover never does. 'release' deletes it if it is this process's.
-- Reply: false (held by this process, or released) | the holder's NONCE:NUMBER
local holder = redis.call('GET', KEYS[1])
local mine = holder ~= false and string.sub(holder, 1, #ARGV[1] + 1) == ARGV[1] .. ':'
if ARGV[4] == 'release' then
  if mine then redis.call('DEL', KEYS[1]) end
  return false
end
if holder and not mine then return holder end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[3], 'PX', ARGV[2])
return false
