-- outbox_forget.lua — drops a room from the outbox index only if no transition announced it since the
-- worker read it (RedisOrderOutbox.ForgetAsync). Standalone. KEYS 1 rs:orders:rooms  ARGV 1 roomId  2 mark
-- Reply: 1 dropped, 0 kept.
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
