-- outbox_status.lua — one endpoint's delivery status of a held record: RedisOrderOutbox.SetDeliveryAsync.
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries (one slot: the room's hash tag)
-- ARGV 1 consumer group  2 consumer  3 entry id  4 status field ('ORDERID ENDPOINT')  5 status (JSON)  6 the endpoint
--   7 the field that lists every endpoint the hash has a status of (RedisOrderOutbox.EndpointsField, a JSON array)
-- Only while this consumer still holds the entry, as outbox_keep.lua checks: one whose claim lapsed and was taken over
-- (or whose record was settled meanwhile) but does not know it yet must not write over the new holder's statuses.
-- The endpoint joins that list, so a trim of the record takes its status even once the endpoint is no longer
-- configured (outbox_settle.lua); of a list written by hand, only its strings are kept (one that cannot be read at all
-- is started again).
-- Reply: 1 (written) | 0 (not held: nothing written)
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
local ok, stored = pcall(cjson.decode, redis.call('HGET', KEYS[2], ARGV[7]) or '[]')
if not ok or type(stored) ~= 'table' then stored = {} end
local endpoints, listed = {}, false
for _, endpoint in ipairs(stored) do
  if type(endpoint) == 'string' then endpoints[#endpoints + 1] = endpoint end
  if endpoint == ARGV[6] then listed = true end
end
if listed and #endpoints == #stored then return 1 end
if not listed then endpoints[#endpoints + 1] = ARGV[6] end
redis.call('HSET', KEYS[2], ARGV[7], cjson.encode(endpoints))
return 1
