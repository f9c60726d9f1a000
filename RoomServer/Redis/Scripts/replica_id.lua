-- replica_id.lua — a replica process holds its ReplicaId while it lives: ReplicaIdGuard.
-- Standalone (no prelude). KEYS 1 rs:replica:ID  ARGV 1 this process's nonce  2 lease ms
-- The key is set (or renewed) only when it is free or already this process's, so of two live processes
-- started with one ReplicaId exactly one holds it, and only the other learns of the clash.
-- Reply: false (held by this process) | the nonce of the process that holds it
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
