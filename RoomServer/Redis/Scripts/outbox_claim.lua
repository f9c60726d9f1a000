-- outbox_claim.lua — the delivery worker takes a room's next order record (RedisOrderOutbox.ClaimNextAsync).
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries  3 rs:{id}:meta
-- ARGV 1 consumer group  2 consumer  3 claim timeout ms  4 ms a settled outbox is kept once its room is gone
-- A settled outbox (nothing left to deliver) is the operator view of the room's records (at most
-- SettledRecordsKept of them: outbox_settle.lua trims the oldest): kept, without a TTL, while its room lives — the room's keys live on with every change, so a TTL set at settling would
-- not keep up — and given ARGV 4 once the room is gone. The worker claims right after settling, and every
-- replica's sweep brings each outbox here again, so no timing decides it.
-- One record per room at a time, in version order: a new record is read only when none is pending, so a
-- later record never overtakes one still being retried. A pending record whose holder has not renewed its
-- claim within the timeout (it died) is taken over (XAUTOCLAIM).
-- Reply: {'empty'} | {'busy', ms since the holder last renewed its claim}
--   | {'entry', id, {field, value, ...}, times the entry was claimed (1 when first read)}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'empty'} end
local function settled()
  if redis.call('EXISTS', KEYS[3]) == 1 then
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
  elseif redis.call('PTTL', KEYS[1]) == -1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
  end
  return {'empty'}
end
local entry, claims = nil, 1
if redis.call('XPENDING', KEYS[1], ARGV[1])[1] > 0 then
  local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', 1)
  entry = claimed[2][1]
  if not entry then return {'busy', redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1)[1][3]} end
  claims = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)[1][4]
else
  local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
  if not read then return settled() end
  entry = read[1][2][1]
end
return {'entry', entry[1], entry[2], claims}
