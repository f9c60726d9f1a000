-- outbox_claim.lua — the delivery worker takes a room's next order record (RedisOrderOutbox.ClaimNextAsync).
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries  3 rs:{id}:meta
-- ARGV 1 consumer group  2 consumer  3 claim timeout ms  4 ms a settled outbox outlives its room
-- A settled outbox (nothing left: it has a TTL) keeps up with its room: the room's keys live on with every
-- change, the outbox's TTL was set once, at settling. Every replica's sweep brings such outboxes here, so
-- each pass extends it to the room's TTL plus ARGV 4 (more than a sweep interval) — never shortens it.
-- One record per room at a time, in version order: a new record is read only when none is pending, so a
-- later record never overtakes one still being retried. A pending record whose holder has not renewed its
-- claim within the timeout (it died) is taken over (XAUTOCLAIM).
-- Reply: {'empty'} | {'busy'} | {'entry', id, {field, value, ...}}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'empty'} end
local function keep_with_room()
  local room_ttl = redis.call('PTTL', KEYS[3])
  if room_ttl > 0 and redis.call('PTTL', KEYS[1]) > 0 then
    local keep = room_ttl + tonumber(ARGV[4])
    redis.call('PEXPIRE', KEYS[1], keep, 'GT')
    redis.call('PEXPIRE', KEYS[2], keep, 'GT')
  end
  return {'empty'}
end
local entry
if redis.call('XPENDING', KEYS[1], ARGV[1])[1] > 0 then
  local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', 1)
  entry = claimed[2][1]
  if not entry then return {'busy'} end
else
  local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
  if not read then return keep_with_room() end
  entry = read[1][2][1]
end
return {'entry', entry[1], entry[2]}
