-- create.lua — a new room at version 0, state open.
-- ARGV 4 roomId  5 epoch  6 name  7 menu JSON  8 ttl seconds  9 audit length (events kept in the
--      audit trail)  10 the once-mark's lifetime in seconds (KEYS[10] given: RoomServer:IdempotencyKeyHours)
--      11 '1' = replay only (KEYS[10] given): answer an earlier creation, never create  12.. menuId, priceMinor pairs
-- KEYS 10 (only for a room made for an Idempotency-Key, RedisRoomStore.CreateOnceAsync): rs:{id}:created,
--      the epoch it was made with, kept past the room's own keys (not one of ROOM_KEYS, not deleted with it).
-- Checks: with KEYS[10], the once-mark first — made with this epoch before, and the room there → {'ok', 'exists'}
--   (an earlier request with the key made it); made before and gone → {'ok', 'gone'} (deleted or expired
--   since: not made again). The mark, not the room's epoch, decides: failover.lua renews a room's epoch,
--   and the mark is written by the script that wrote the room, so it survives any failover the room does.
--   Both rewrite what they read (confirm_earlier), so where writes are confirmed the caller's WAIT
--   confirms the earlier creation too. No mark (evicted) but the room there with this epoch → {'ok', 'exists'},
--   the mark set again. Replay only and not made → {'absent'}. Then the id is free
--   (else {'exists'}: the caller draws another id).
-- Effects: meta written (with the master's replication id, failover.lua), stale keys of an old room
--   with this id removed, TTL set, the once-mark set. No event.
local CREATED = KEYS[10]
if CREATED and redis.call('GET', CREATED) == ARGV[5] then
  redis.call('SET', CREATED, ARGV[5], 'KEEPTTL')
  if room_exists() then
    confirm_earlier(META, 'epoch', redis.call('HGET', META, 'epoch'))
    return {'ok', 'exists'}
  end
  return {'ok', 'gone'}
end
-- Fallback for a mark lost while its room lives (evicted): the room there with this epoch was made for this
-- key (epochs are random). After the mark, so a failover's renewed epoch never reaches it. The mark is restored.
if CREATED and room_exists() and redis.call('HGET', META, 'epoch') == ARGV[5] then
  redis.call('SET', CREATED, ARGV[5], 'EX', ARGV[10])
  confirm_earlier(META, 'epoch', ARGV[5])
  return {'ok', 'exists'}
end
if CREATED and ARGV[11] == '1' then return {'absent'} end
if room_exists() then return {'exists'} end
for i = 2, ROOM_KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', RATE)
-- failoverMaster: the master this epoch began under (failover.lua), so a later promotion is told from it.
redis.call('HSET', META, 'roomId', ARGV[4], 'epoch', ARGV[5], 'version', 0, 'state', 'open',
  'name', ARGV[6], 'menu', ARGV[7], 'ttl', ARGV[8], 'created', AT, 'auditLength', ARGV[9],
  'failoverMaster', master_replid())
for i = 12, #ARGV, 2 do redis.call('HSET', META, 'item:' .. ARGV[i], ARGV[i + 1]) end
touch()
if CREATED then redis.call('SET', CREATED, ARGV[5], 'EX', ARGV[10]) end
return {'ok'}
