-- state.lua — SetRoomState / PUT /api/rooms/{id}/state.
-- ARGV 4 target state  5 by (member id or 'api')  6 the owner's write rate (take_member_op; '' for
--   the API)  7.. the states the target may be entered from (RoomStates' transition table, passed in
--   so there is one definition).
-- Checks: room exists (room_not_found); same state → no-op; current state among the sources, else
--   room_closed (from closed) or {'invalid_transition', current}; the owner's write rate
--   (rate_limited; the no-op too).
-- Effects: state set → 'state' event {state, by}.
-- Reply: {'ok', version} (VersionReply); {'invalid_transition', current} (ScriptReply.Detail).
if not room_exists() then return {'room_not_found'} end
local target, by = ARGV[4], ARGV[5]
local current = redis.call('HGET', META, 'state')
if current == target then
  if not take_member_op(by, ARGV[6]) then return {'rate_limited'} end
  touch()
  return {'ok', redis.call('HGET', META, 'version')}
end
local allowed = false
for i = 7, #ARGV do
  if ARGV[i] == current then allowed = true end
end
if not allowed then
  if current == 'closed' then return {'room_closed'} end
  return {'invalid_transition', current}
end
if not take_member_op(by, ARGV[6]) then return {'rate_limited'} end
redis.call('HSET', META, 'state', target)
local version = append_event('state', { state = target, by = by })
touch()
return {'ok', int(version)}
