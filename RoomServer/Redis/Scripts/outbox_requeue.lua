-- outbox_requeue.lua — a retried dead letter goes back into its room's outbox (RedisOrderOutbox.RetryAsync).
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries
-- ARGV 1 consumer group  2 orderId  3 type  4 version  5 at  6 body (unchanged)  7 endpoint  8 status field
--   9 status JSON (pending, 0 attempts)
-- Effects: the record is appended again for that endpoint alone, with the body it had; the outbox is
-- created if it expired meanwhile, and keeps no TTL until settled. Reply: {'ok'}
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM') end
redis.call('XADD', KEYS[1], '*', 'orderId', ARGV[2], 'type', ARGV[3], 'version', ARGV[4], 'at', ARGV[5],
  'body', ARGV[6], 'endpoint', ARGV[7])
redis.call('HSET', KEYS[2], ARGV[8], ARGV[9])
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
return {'ok'}
