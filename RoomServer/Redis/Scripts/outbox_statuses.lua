-- outbox_statuses.lua — every endpoint's status of one record, those of endpoints no longer configured included:
-- RedisOrderOutbox.ClaimNextAsync, on a takeover only (a holder configured otherwise may have left the record pending
-- for an endpoint removed since). Reads the whole hash once: it holds at most SettledRecordsKept records' statuses
-- (outbox_settle.lua trims them) beside those of endpoints removed since.
-- Standalone (no prelude). KEYS 1 rs:{id}:deliveries  ARGV 1 the record's fields' prefix ('ORDERID ')
-- Reply: {field, value, ...}
local found, prefix = {}, ARGV[1]
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #prefix) == prefix then
    found[#found + 1] = all[i]
    found[#found + 1] = all[i + 1]
  end
end
return found
