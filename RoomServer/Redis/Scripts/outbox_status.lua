-- outbox_status.lua — one endpoint's delivery status of a held record: RedisOrderOutbox.SetDeliveryAsync.
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries (one slot: the room's hash tag)
-- ARGV 1 consumer group  2 consumer  3 entry id  4 status field ('ORDERID ENDPOINT')  5 status (JSON)  6 the endpoint
--   7 the field that lists every endpoint the hash has a status of (RedisOrderOutbox.EndpointsField, a JSON array)
-- Only while this consumer still holds the entry, as outbox_keep.lua checks: one whose claim lapsed and was taken over
-- (or whose record was settled meanwhile) but does not know it yet must not write over the new holder's statuses.
-- The endpoint joins that list, so a trim of the record takes its status even once the endpoint is no longer
-- configured (outbox_settle.lua); a list that cannot be read (written by hand) is started again.
-- Reply: 1 (written) | 0 (not held: nothing written)
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
local stored = redis.call('HGET', KEYS[2], ARGV[7])
local ok, endpoints = pcall(cjson.decode, stored or '[]')
if not ok or type(endpoints) ~= 'table' then endpoints = {} end
for _, endpoint in ipairs(endpoints) do
  if endpoint == ARGV[6] then return 1 end
end
endpoints[#endpoints + 1] = ARGV[6]
redis.call('HSET', KEYS[2], ARGV[7], cjson.encode(endpoints))
return 1
