-- choice.lua — SetChoice / AdjustChoice.
-- ARGV 4 memberId  5 menuId  6 mode 'set'|'adjust'  7 value (quantity or delta)  8 opId ('' = none)
--      9 max quantity  10 idempotency window  11 the token's issue time (Unix ms)
--      12 the member's write rate 'perSecond:burst' (take_member_op)
-- Checks, in order: room exists (room_not_found); the member was not removed after the token was
--   issued (forbidden); a known opId returns its original result and
--   changes nothing (even if the arguments differ); state open (room_locked, room_closed); the item
--   is on the menu (unknown_menu_item); the member's write rate (rate_limited; a replayed opId above
--   costs nothing). The caller has validated the value's range.
-- Effects: quantity set (adjust: current + delta clamped to [0, max]); 0 removes the field. If the
--   quantity changed → 'choice' event. If an opId was given, its result is remembered (window-capped).
-- Reply: {'ok', version, quantity} (ChoiceReply); a write that changes nothing returns the current
--   version.
--   (The idempotency window stores them as '<version>:<quantity>'.)
if not room_exists() then return {'room_not_found'} end
local member, menu, mode, value, op = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
if removed_since(member, ARGV[11]) then return {'forbidden'} end
local opKey = member .. ':' .. op
if op ~= '' then
  local prior = redis.call('HGET', OPS, opKey)
  if prior then
    local v, n = string.match(prior, '^(%d+):(%d+)$')
    return {'ok', v, n}
  end
end
local state = redis.call('HGET', META, 'state')
if state == 'locked' then return {'room_locked'} end
if state == 'closed' then return {'room_closed'} end
if redis.call('HEXISTS', META, 'item:' .. menu) == 0 then return {'unknown_menu_item'} end
if not take_member_op(member, ARGV[12]) then return {'rate_limited'} end

local field = member .. ':' .. menu
local current = tonumber(redis.call('HGET', CHOICES, field) or '0')
local nextq = value
if mode == 'adjust' then nextq = math.max(0, math.min(tonumber(ARGV[9]), current + value)) end
local version
if nextq ~= current then
  if nextq == 0 then redis.call('HDEL', CHOICES, field) else redis.call('HSET', CHOICES, field, nextq) end
  local opId = nil
  if op ~= '' then opId = op end
  version = append_event('choice', { memberId = member, menuId = menu, quantity = nextq, opId = opId })
else
  version = tonumber(redis.call('HGET', META, 'version'))
end
local result = int(version) .. ':' .. int(nextq)
if op ~= '' then
  redis.call('HSET', OPS, opKey, result)
  redis.call('RPUSH', OPLOG, opKey)
  if redis.call('LLEN', OPLOG) > tonumber(ARGV[10]) then
    redis.call('HDEL', OPS, redis.call('LPOP', OPLOG))
  end
end
touch()
return {'ok', int(version), int(nextq)}
