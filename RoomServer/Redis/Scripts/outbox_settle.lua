-- outbox_settle.lua — a record is done with (every endpoint delivered or dead): RedisOrderOutbox.SettleAsync.
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries  3 rs:{id}:meta
-- ARGV 1 consumer group  2 entry id  3 seconds to keep a settled outbox whose room is gone  4 consumer
-- Refused ({'lost'}, nothing changed) when another consumer holds the entry: this one's claim lapsed and the
-- record was taken over, and it is the new holder's to settle.
-- Effects: XACK. When nothing is pending or unread any more, the outbox and its status expire with the
-- room (its TTL), or after ARGV 3 when the room has expired or was deleted meanwhile — never before. The
-- worker's next claim (outbox_claim.lua) then keeps it without a TTL for as long as the room lives.
-- Reply: {'settled'} (the outbox is drained) | {'more'} | {'lost'}
local holder = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)[1]
if holder and holder[2] ~= ARGV[4] then return {'lost'} end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if redis.call('XPENDING', KEYS[1], ARGV[1])[1] > 0 then return {'more'} end
local delivered_up_to
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #g, 2 do fields[g[i]] = g[i + 1] end
  if fields['name'] == ARGV[1] then delivered_up_to = fields['last-delivered-id'] end
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] and last[1][1] ~= delivered_up_to then return {'more'} end
local ttl = redis.call('TTL', KEYS[3])
if ttl <= 0 then ttl = tonumber(ARGV[3]) end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return {'settled'}
