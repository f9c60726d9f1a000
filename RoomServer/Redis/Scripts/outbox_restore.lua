-- outbox_restore.lua — a retried dead letter of an unreadable record goes back into its room's outbox
-- exactly as it was stored (RedisOrderOutbox.RetryAsync), for a replica that can read it.
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries  3 rs:{id}:requeued  4 rs:{id}:discarded
-- ARGV 1 consumer group  2 status field  3 status JSON (pending, 0 attempts)  4 the dead letter's id
--   5 seconds to remember it was put back  6 the record's put-back counter field (RedisOrderOutbox.CopiesField)
--   7.. the record's fields and values as stored, its endpoint field naming the dead letter's endpoint
-- Effects: as outbox_requeue.lua — appended again for that endpoint alone, the outbox created if it
-- expired meanwhile, no TTL until settled, counted as a put-back copy (whether or not the record is still kept),
-- and a dead letter already put back is not put back again (its memory's TTL renewed, for the caller's WAIT),
-- marked put back last; one an operator deleted meanwhile is not put back at all ('discarded').
-- Reply: {'ok'} | {'again'} | {'discarded'}
if redis.call('SISMEMBER', KEYS[4], ARGV[4]) == 1 then
  redis.call('EXPIRE', KEYS[4], ARGV[5])
  return {'discarded'}
end
if redis.call('SISMEMBER', KEYS[3], ARGV[4]) == 1 then
  redis.call('EXPIRE', KEYS[3], ARGV[5])
  return {'again'}
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM') end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 7))
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[6], 1)
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[5])
return {'ok'}
