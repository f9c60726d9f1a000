-- create.lua — a new room at version 0, state open.
-- ARGV 4 roomId  5 epoch  6 name  7 menu JSON  8 ttl seconds  9 audit length (events kept in the
--      audit trail)  10.. menuId, priceMinor pairs
-- Checks: the id is free (else {'exists'}: the caller draws another id).
-- Effects: meta written (with the master's replication id, failover.lua), stale keys of an old room
--   with this id removed, TTL set. No event.
if room_exists() then return {'exists'} end
for i = 2, ROOM_KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', RATE)
-- failoverMaster: the master this epoch began under (failover.lua), so a later promotion is told from it.
redis.call('HSET', META, 'roomId', ARGV[4], 'epoch', ARGV[5], 'version', 0, 'state', 'open',
  'name', ARGV[6], 'menu', ARGV[7], 'ttl', ARGV[8], 'created', AT, 'auditLength', ARGV[9],
  'failoverMaster', master_replid())
for i = 10, #ARGV, 2 do redis.call('HSET', META, 'item:' .. ARGV[i], ARGV[i + 1]) end
touch()
return {'ok'}
