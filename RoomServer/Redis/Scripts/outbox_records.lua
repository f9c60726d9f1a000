-- outbox_records.lua — the operator view of a room's order records (RedisOrderOutbox.RecordsAsync), read at one moment.
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries   ARGV 1 consumer group
-- With the records and their statuses, which entries the delivery worker is done with: an entry is settled once
-- read by the group (at or below its last-delivered-id) and no longer pending (XACKed). One moment, so a record
-- settled between two reads is never seen settled without the statuses its settling wrote.
-- Reply: {entries (XRANGE), statuses (HGETALL, flat), last-delivered-id ('' when none), {ids pending}}
if redis.call('EXISTS', KEYS[1]) == 0 then return {{}, {}, '', {}} end
local delivered_up_to = ''
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #g, 2 do fields[g[i]] = g[i + 1] end
  if fields['name'] == ARGV[1] then delivered_up_to = fields['last-delivered-id'] end
end
local pending = {}
if delivered_up_to ~= '' then
  -- One record per room is pending at a time; a thousand is room to spare.
  for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1000)) do pending[#pending + 1] = p[1] end
end
return {redis.call('XRANGE', KEYS[1], '-', '+'), redis.call('HGETALL', KEYS[2]), delivered_up_to, pending}
