-- outbox_requeue.lua — a retried dead letter goes back into its room's outbox (RedisOrderOutbox.RetryAsync).
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries  3 rs:{id}:requeued  4 rs:{id}:discarded
-- ARGV 1 consumer group  2 orderId  3 type  4 version  5 at  6 body (unchanged)  7 endpoint  8 status field
--   9 status JSON (pending, 0 attempts)  10 the dead letter's id  11 seconds to remember it was put back
--   12 the record's put-back counter field (RedisOrderOutbox.CopiesField)
-- Effects: the record is appended again for that endpoint alone, with the body it had; the outbox is
-- created if it expired meanwhile, and keeps no TTL until settled. The copy needs nothing of the record it copies,
-- which may have been trimmed (outbox_settle.lua); the counter tells that trim the copy shares the record's statuses. A dead letter already put back (two
-- retries of it at once: each read it before either removed it, or a retry after one whose put-back
-- was not confirmed) is not put back again; its memory's TTL is renewed, a write that replicates, so
-- that the caller's WAIT confirms the earlier put-back too (a master replicates in order). Marked put
-- back last: a script that fails part-way leaves the dead letter to be put back by the next retry.
-- A dead letter an operator deleted meanwhile (outbox_discard.lua: the delete read it before this retry
-- removed it) is not put back at all ('discarded', its memory's TTL renewed for the caller's WAIT in the same
-- way): of a delete and a retry at once, only the first has its effect.
-- Reply: {'ok'} | {'again'} | {'discarded'}
if redis.call('SISMEMBER', KEYS[4], ARGV[10]) == 1 then
  redis.call('EXPIRE', KEYS[4], ARGV[11])
  return {'discarded'}
end
if redis.call('SISMEMBER', KEYS[3], ARGV[10]) == 1 then
  redis.call('EXPIRE', KEYS[3], ARGV[11])
  return {'again'}
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM') end
redis.call('XADD', KEYS[1], '*', 'orderId', ARGV[2], 'type', ARGV[3], 'version', ARGV[4], 'at', ARGV[5],
  'body', ARGV[6], 'endpoint', ARGV[7])
redis.call('HSET', KEYS[2], ARGV[8], ARGV[9])
redis.call('HINCRBY', KEYS[2], ARGV[12], 1)
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('SADD', KEYS[3], ARGV[10])
redis.call('EXPIRE', KEYS[3], ARGV[11])
return {'ok'}
