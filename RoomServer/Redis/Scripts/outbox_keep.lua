-- outbox_keep.lua — renews a record's claim for the replica delivering it: RedisOrderOutbox.KeepClaimAsync.
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  ARGV 1 consumer group  2 consumer  3 entry id
-- Only while this consumer still holds the entry: one whose claim lapsed (it could not reach Redis for the
-- claim timeout) and was taken over must not take it back, or two replicas would deliver the room at once.
-- Reply: 1 (kept) | 0 (lost: another consumer holds it, or it was settled)
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
