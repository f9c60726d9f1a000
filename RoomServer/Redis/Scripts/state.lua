-- state.lua — SetRoomState / PUT /api/rooms/{id}/state.
-- KEYS after the room's (RedisKeys.ForStateChange): #KEYS-1 rs:{id}:orders (stream, the outbox)
--   #KEYS rs:{id}:deliveries (hash, delivery status) — last, so the room's own key list may grow.
-- ARGV 4 target state  5 by (member id or 'api')  6 the owner's write rate (take_member_op; '' for
--   the API)  7 the outbox's consumer group  8 the most order records the outbox may hold unsettled
--   (RoomServer__Limits__MaxUnsettledOrderRecords)  9.. the states the target may be entered from
--   (RoomStates' transition table, passed in so there is one definition).
-- Checks: room exists (room_not_found); same state → no-op; current state among the sources, else
--   room_closed (from closed) or {'invalid_transition', current}; for a transition that writes an order record,
--   fewer than ARGV 8 records unsettled ({'order_records_waiting'}: read by RedisRoomStore as rate_limited); the
--   owner's write rate (rate_limited; the no-op too).
-- Effects: state set → 'state' event {state, by}. Into locked, locked → open, into closed (OrderRecordTypes):
--   also the order record, XADDed to the room's outbox in this same step (DESIGN.md §8): fields orderId
--   (ROOMID:VERSION) type version at by room (JSON: epoch state name menu members[id,name,...]
--   choices[memberId:menuId,qty,...], read by RedisOrderOutbox). The outbox and its status hash lose
--   their TTL until the worker has settled every record (outbox_settle.lua gives it back).
-- Reply: {'ok', version} (VersionReply); {'invalid_transition', current} (ScriptReply.Detail); {'order_records_waiting'};
--   {'room_not_found'}, {'room_closed'}, {'rate_limited'}.
if not room_exists() then return {'room_not_found'} end
local target, by, group = ARGV[4], ARGV[5], ARGV[7]
local ORDERS, DELIVERIES = KEYS[#KEYS - 1], KEYS[#KEYS]
-- touch() refreshes the room's keys; the outbox keeps its own TTL (none while a record is undelivered)
-- whichever keys touch() covers.
local function touch_room()
  local kept = { redis.call('PTTL', ORDERS), redis.call('PTTL', DELIVERIES) }
  touch()
  for i, key in ipairs({ ORDERS, DELIVERIES }) do
    if kept[i] == -1 then redis.call('PERSIST', key) elseif kept[i] > 0 then redis.call('PEXPIRE', key, kept[i]) end
  end
end

local current = redis.call('HGET', META, 'state')
if current == target then
  if not take_member_op(by, ARGV[6]) then return {'rate_limited'} end
  touch_room()
  return {'ok', redis.call('HGET', META, 'version')}
end
local allowed = false
for i = 9, #ARGV do
  if ARGV[i] == current then allowed = true end
end
if not allowed then
  if current == 'closed' then return {'room_closed'} end
  return {'invalid_transition', current}
end
local function record_type()
  if target == 'locked' then return 'order.submitted' end
  if current == 'locked' and target == 'open' then return 'order.reopened' end
  if target == 'closed' then return 'order.closed' end
  return nil
end

-- The records not yet settled: those the group has not read (its lag, Redis 7) and the one it holds (pending). An
-- outbox shorter than the limit holds fewer, so most changes read nothing more than its length. Only where the lag is
-- unknown are the unread entries read (up to the limit; each holds a whole order, hence the lag first).
local function unsettled(limit)
  local length = redis.call('XLEN', ORDERS)
  if length < limit then return length end
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', ORDERS)) do
    local fields = {}
    for i = 1, #g, 2 do fields[g[i]] = g[i + 1] end
    if fields['name'] == group then
      local unread = fields['lag']
      if type(unread) ~= 'number' then
        unread = #redis.call('XRANGE', ORDERS, '(' .. fields['last-delivered-id'], '+', 'COUNT', limit)
      end
      return unread + fields['pending']
    end
  end
  return length -- no group has read any of them
end

local rtype = record_type()
if rtype and unsettled(tonumber(ARGV[8])) >= tonumber(ARGV[8]) then return {'order_records_waiting'} end
if not take_member_op(by, ARGV[6]) then return {'rate_limited'} end
local function json_strings(flat)
  local parts = {}
  for i, v in ipairs(flat) do parts[i] = q(v) end
  return '[' .. table.concat(parts, ',') .. ']'
end

redis.call('HSET', META, 'state', target)
local version = append_event('state', { state = target, by = by })
touch_room()
if rtype then
  local meta = redis.call('HMGET', META, 'roomId', 'epoch', 'name', 'menu')
  local room = '{"epoch":' .. q(meta[2]) .. ',"state":' .. q(target) .. ',"name":' .. q(meta[3])
    .. ',"menu":' .. meta[4] .. ',"members":' .. json_strings(redis.call('HGETALL', MEMBERS))
    .. ',"choices":' .. json_strings(redis.call('HGETALL', CHOICES)) .. '}'
  if redis.call('EXISTS', ORDERS) == 0 then redis.call('XGROUP', 'CREATE', ORDERS, group, '0', 'MKSTREAM') end
  redis.call('XADD', ORDERS, '*', 'orderId', meta[1] .. ':' .. int(version), 'type', rtype,
    'version', int(version), 'at', AT, 'by', by, 'room', room)
  redis.call('PERSIST', ORDERS)
  redis.call('PERSIST', DELIVERIES)
end
return {'ok', int(version)}
