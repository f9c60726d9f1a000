-- outbox_dead.lua — a dead letter (RedisOrderOutbox.DeadLetterAsync). A script, not a bare XADD, so that
-- it goes through the confirmed-writes path (RedisConnection.EvaluateConfirmedAsync): on a deployment
-- that confirms writes, the record is settled only once a Redis replica holds its dead letter.
-- Standalone (no prelude). KEYS 1 rs:orders:deadletters  ARGV the dead letter's fields and values.
-- Reply: the dead letter's id.
return redis.call('XADD', KEYS[1], '*', unpack(ARGV))
