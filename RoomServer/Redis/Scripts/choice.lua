-- choice.lua — SetChoice / AdjustChoice.
-- ARGV 4 memberId  5 menuId  6 mode 'set'|'adjust'  7 value (quantity or delta)  8 opId ('' = none)
--      9 max quantity  10 idempotency window  11 the token's removal generation (claim rgen, 0 if absent)
--      12 the member's write rate 'perSecond:burst' (take_member_op)
-- Checks, in order: room exists (room_not_found); the member was not removed after the token was
--   issued (forbidden); a known opId returns its original result and
--   changes nothing (even if the arguments differ); state open (room_locked, room_closed); the item
--   is on the menu (unknown_menu_item); the member's write rate (rate_limited; a replayed opId above
--   costs nothing). The caller has validated the value's range.
-- Effects: quantity set (adjust: current + delta clamped to [0, max]); 0 removes the field. If the
--   quantity changed → 'choice' event. If an opId was given, its result is remembered (window-capped).
-- Reply: {'ok', version, quantity} (ChoiceReply); a write that changes nothing returns the current
--   version. A replayed opId answers {'ok', version, quantity, 'replay'} (nothing applied: not counted as a
--   write) and rewrites its remembered result (confirm_earlier), so that where writes are confirmed the
--   caller's WAIT confirms the original write too.
--   (The idempotency window stores them as '<version>:<quantity>'.)
local member, menu, mode, value, op = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
-- One read of the room's meta for every check and for the event (the hot path: each redis.call costs).
local meta = redis.call('HMGET', META, 'state', 'removed:' .. member, 'item:' .. menu, 'ttl', 'roomId', 'epoch', 'auditLength')
local state, ttl = meta[1], tonumber(meta[4])
if not state then return {'room_not_found'} end
if removed_after(meta[2], ARGV[11]) then return {'forbidden'} end
local opKey = member .. ':' .. op
if op ~= '' then
  local prior = redis.call('HGET', OPS, opKey)
  if prior then
    confirm_earlier(OPS, opKey, prior)
    local v, n = string.match(prior, '^(%d+):(%d+)$')
    return {'ok', v, n, 'replay'}
  end
end
if state == 'locked' then return {'room_locked'} end
if state == 'closed' then return {'room_closed'} end
if not meta[3] then return {'unknown_menu_item'} end
if not take_member_op(member, ARGV[12]) then return {'rate_limited'} end

local field = member .. ':' .. menu
local current = tonumber(redis.call('HGET', CHOICES, field) or '0')
local nextq = value
if mode == 'adjust' then nextq = math.max(0, math.min(tonumber(ARGV[9]), current + value)) end
local version
-- The room's keys this write may have created, without an expiry yet (touch_unless_fresh gives them one).
local created = {}
if nextq ~= current then
  if nextq == 0 then redis.call('HDEL', CHOICES, field) else redis.call('HSET', CHOICES, field, nextq) end
  if current == 0 then created[#created + 1] = CHOICES end
  local opId = nil
  if op ~= '' then opId = op end
  local audit_created
  version, audit_created = append_event('choice', { memberId = member, menuId = menu, quantity = nextq, opId = opId }, { meta[5], meta[6], meta[7] })
  if audit_created then created[#created + 1] = AUDIT end
else
  version = tonumber(redis.call('HGET', META, 'version'))
end
local result = int(version) .. ':' .. int(nextq)
if op ~= '' then
  redis.call('HSET', OPS, opKey, result)
  local logged = redis.call('RPUSH', OPLOG, opKey)
  if logged == 1 then
    created[#created + 1] = OPS
    created[#created + 1] = OPLOG
  end
  if logged > tonumber(ARGV[10]) then
    redis.call('HDEL', OPS, redis.call('LPOP', OPLOG))
  end
end
touch_unless_fresh(ttl, created)
return {'ok', int(version), int(nextq)}
