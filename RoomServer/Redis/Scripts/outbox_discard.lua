-- outbox_discard.lua — an operator deletes a dead letter (RedisOrderOutbox.DeleteDeadLetterAsync), in its
-- room's slot, where a retry of it decides too (outbox_requeue.lua, outbox_restore.lua): the dead-letter stream
-- is in another slot, so this mark, not the stream, says which of a delete and a retry at once came first.
-- Standalone (no prelude). KEYS 1 rs:{id}:requeued  2 rs:{id}:discarded
-- ARGV 1 the dead letter's id  2 seconds to remember it was deleted
-- Effects: a dead letter a retry has put back already is left to that retry ('retried': the delete lost, and
-- answers that there is no such letter); the retry's memory's TTL is renewed, a write that replicates, so that
-- the caller's WAIT confirms that put-back before the caller removes the letter from the stream. Otherwise the
-- letter is marked deleted, so no retry puts it back from now on ('ok', or 'again' when a delete marked it
-- before: two deletes at once, or one after a delete whose removal from the stream was lost). The caller
-- removes it from the dead-letter stream after this script, with a plain XDEL: a failover that loses that
-- removal brings the letter back listed, and this mark (kept ARGV 2 seconds) keeps any retry from putting it back.
-- Reply: {'ok'} | {'again'} | {'retried'}
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return {'retried'}
end
local added = redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
if added == 0 then return {'again'} end
return {'ok'}
