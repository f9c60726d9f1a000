-- remove.lua — RemoveMember / DELETE /api/rooms/{id}/members/{memberId}.
-- ARGV 4 memberId  5 by (owner's member id or 'api')  6 the owner's write rate (take_member_op; ''
--      for the API)
-- Checks: room exists (room_not_found); a member removed before and not back is answered first, in any
--   state (then only the generation below goes up: no event, the current version): most likely a retry whose
--   first reply was lost, and the removal it repeats was applied while the room was open; then the member is in
--   the room, else invalid_argument 'not_member', in any state (DESIGN §4: the 409 is for a member still in the
--   room); then the room is open (room_locked, room_closed: removing a member still there takes their choices out
--   of an order already handed off); the member did not join as an owner (invalid_argument 'owner'); the owner's
--   write rate (rate_limited).
-- Effects, in one step: the member's choices deleted, the member dropped from members, their
--   presence (connections, online and grace marks) dropped, meta removed:<member> (the member's
--   removal generation) + 1, so every token issued before it, carrying a lower rgen, is refused from
--   now on → 'member_removed' event {memberId, by}.
-- Reply: {'ok', version}, {'ok', version, 'again'} for a member removed before (RemovalReply); refusals
--   {'invalid_argument', reason} (ScriptReply.Detail).
local state = redis.call('HGET', META, 'state')
if not state then return {'room_not_found'} end
local member, by = ARGV[4], ARGV[5]
local present = redis.call('HEXISTS', MEMBERS, member) == 1
if not present and tonumber(redis.call('HGET', META, 'removed:' .. member)) then
  -- Removed before and not back: most likely a retry whose first reply was lost, so it changes nothing
  -- anyone sees (no event, the current version); it only refuses any token issued since, as a removal does.
  -- Before the state check: a room locked since must not make the retry say the member is still there.
  if not take_member_op(by, ARGV[6]) then return {'rate_limited'} end
  redis.call('HINCRBY', META, 'removed:' .. member, 1)
  touch()
  return {'ok', int(redis.call('HGET', META, 'version')), 'again'}
end
if not present then return {'invalid_argument', 'not_member'} end
if state == 'locked' then return {'room_locked'} end
if state == 'closed' then return {'room_closed'} end
if redis.call('HEXISTS', META, 'owner:' .. member) == 1 then return {'invalid_argument', 'owner'} end
if not take_member_op(by, ARGV[6]) then return {'rate_limited'} end

local prefix = member .. ':'
local choices = redis.call('HKEYS', CHOICES)
for _, field in ipairs(choices) do
  if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', CHOICES, field) end
end
local presence = redis.call('HGETALL', PRESENCE)
for i = 1, #presence, 2 do
  if string.sub(presence[i], 1, 2) == 'c:' and member_of(presence[i + 1]) == member then
    redis.call('HDEL', PRESENCE, presence[i])
  end
end
redis.call('HDEL', PRESENCE, 'm:' .. member, 'g:' .. member)
redis.call('HDEL', MEMBERS, member)
redis.call('HINCRBY', META, 'removed:' .. member, 1)
local version = append_event('member_removed', { memberId = member, by = by })
touch()
return {'ok', int(version)}
