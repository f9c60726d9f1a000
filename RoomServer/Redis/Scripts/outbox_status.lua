-- outbox_status.lua — one endpoint's delivery status of a held record: RedisOrderOutbox.SetDeliveryAsync.
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries (one slot: the room's hash tag)
-- ARGV 1 consumer group  2 consumer  3 entry id  4 status field ('ORDERID ENDPOINT')  5 status (JSON)
-- Only while this consumer still holds the entry, as outbox_keep.lua checks: one whose claim lapsed and was taken over
-- (or whose record was settled meanwhile) but does not know it yet must not write over the new holder's statuses.
-- Reply: 1 (written) | 0 (not held: nothing written)
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
return 1
