-- outbox_settle.lua — a record is done with (every endpoint delivered or dead): RedisOrderOutbox.SettleAsync.
-- Standalone (no prelude). KEYS 1 rs:{id}:orders  2 rs:{id}:deliveries  3 rs:{id}:meta
-- ARGV 1 consumer group  2 entry id  3 seconds to keep a settled outbox whose room is gone  4 consumer
--   5 settled entries kept (RoomServer__Webhooks__SettledRecordsKept)  6 prefix of a record's put-back counter field
--   7 the field listing every endpoint with a status (outbox_status.lua)  8.. the endpoints configured
-- Refused ({'lost'}, nothing changed) when another consumer holds the entry: this one's claim lapsed and the
-- record was taken over, and it is the new holder's to settle.
-- Effects: XACK. Past ARGV 5 settled entries, the oldest leave the stream, and with them their statuses (trim_settled).
-- When nothing is pending or unread any more, the outbox and its status expire with the
-- room (at its meta's expiry time, to the millisecond), or after ARGV 3 when the room has expired or was deleted
-- meanwhile (or, which no room is, has no expiry) — never before. The worker's next claim (outbox_claim.lua) then
-- keeps it without a TTL for as long as the room lives.
-- Reply: {'settled'} (the outbox is drained) | {'more'} | {'lost'}
local holder = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)[1]
if holder and holder[2] ~= ARGV[4] then return {'lost'} end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])

local group = {}
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #g, 2 do fields[g[i]] = g[i + 1] end
  if fields['name'] == ARGV[1] then group = fields end
end
local delivered_up_to = group['last-delivered-id']
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)

-- The settled entries are the stream's oldest: the group reads one entry at a time, in stream order, and reads
-- the next only once none is pending (outbox_claim.lua); a retried dead letter is appended after every entry
-- (outbox_requeue.lua, outbox_restore.lua). So the entries up to the last-delivered-id, before any pending one,
-- are settled, and how many there are is XLEN less the unread (the group's lag, Redis 7) and the pending.
-- Their statuses go in the same step: a record's fields ('ORDERID ENDPOINT', RedisOrderOutbox.StatusField) for the
-- endpoints configured, those listed in ARGV 7 (every endpoint outbox_status.lua wrote a status of, one since removed from
-- the settings included) and a put-back copy's own — derived, never a scan of the hash. A record with a put-back copy
-- still in the stream keeps them: the copy shares them (the view lists it as that record); its counter field
-- (ARGV 6 .. orderId) counts such copies, and the last to leave takes them.
-- Every endpoint a status was written for (outbox_status.lua): only the list's strings, and read before the trim writes
-- anything, so a list written by hand can stop no trim half-way.
local function endpoints_written()
  local ok, list = pcall(cjson.decode, redis.call('HGET', KEYS[2], ARGV[7]) or '[]')
  local endpoints = {}
  if ok and type(list) == 'table' then
    for _, endpoint in ipairs(list) do
      if type(endpoint) == 'string' then endpoints[#endpoints + 1] = endpoint end
    end
  end
  return endpoints
end

local function trim_settled()
  if not delivered_up_to then return end
  local unread = group['lag']
  if type(unread) ~= 'number' then
    -- Lag unknown: the settled count is known only when nothing is unread; a later settle trims.
    if not last[1] or last[1][1] ~= delivered_up_to then return end
    unread = 0
  end
  local excess = redis.call('XLEN', KEYS[1]) - unread - pending[1] - tonumber(ARGV[5])
  if excess <= 0 then return end
  -- Normally one (a settle adds one); a bound lowered since is reached over the next settles, a bounded step each.
  if excess > 100 then excess = 100 end
  local up_to = delivered_up_to
  if pending[1] > 0 then up_to = '(' .. pending[2] end
  local written = endpoints_written()
  local trimmed, ids, order_ids = {}, {}, {}
  for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', up_to, 'COUNT', excess)) do
    ids[#ids + 1] = entry[1]
    local fields = {}
    for i = 1, #entry[2], 2 do fields[entry[2][i]] = entry[2][i + 1] end
    local order_id = fields['orderId'] or ''
    if not trimmed[order_id] then
      trimmed[order_id] = {}
      order_ids[#order_ids + 1] = order_id
    end
    if fields['endpoint'] then
      trimmed[order_id][#trimmed[order_id] + 1] = fields['endpoint']
      if redis.call('HINCRBY', KEYS[2], ARGV[6] .. order_id, -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[6] .. order_id) end
    end
  end
  if #ids == 0 then return end
  redis.call('XDEL', KEYS[1], unpack(ids))
  for _, order_id in ipairs(order_ids) do
    if redis.call('HEXISTS', KEYS[2], ARGV[6] .. order_id) == 0 then
      local names = {}
      for i = 8, #ARGV do names[#names + 1] = order_id .. ' ' .. ARGV[i] end
      for _, endpoint in ipairs(written) do names[#names + 1] = order_id .. ' ' .. endpoint end
      for _, endpoint in ipairs(trimmed[order_id]) do names[#names + 1] = order_id .. ' ' .. endpoint end
      if #names > 0 then redis.call('HDEL', KEYS[2], unpack(names)) end
    end
  end
end
trim_settled()

if pending[1] > 0 then return {'more'} end
if last[1] and last[1][1] ~= delivered_up_to then return {'more'} end
-- The room's expiry time itself, not what is left of it: TTL rounds to whole seconds (an outbox expired up to half a
-- second before its room), and before Redis 7.2 a script's PTTL and PEXPIRE each read the clock.
local ends = redis.call('PEXPIRETIME', KEYS[3])
if ends <= 0 then
  local now = redis.call('TIME')
  ends = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[3]) * 1000
end
redis.call('PEXPIREAT', KEYS[1], ends)
redis.call('PEXPIREAT', KEYS[2], ends)
return {'settled'}
