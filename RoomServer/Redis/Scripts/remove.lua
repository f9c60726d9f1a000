-- remove.lua — RemoveMember / DELETE /api/rooms/{id}/members/{memberId}.
-- ARGV 4 memberId  5 by (owner's member id or 'api')  6 removal time (Unix ms, writer's clock)
--      7 the owner's write rate (take_member_op; '' for the API)
-- Checks: room exists (room_not_found); the member is in the room (invalid_argument 'not_member');
--   the member did not join as an owner (invalid_argument 'owner'); the owner's write rate (rate_limited).
-- Effects, in one step: the member's choices deleted, the member dropped from members, their
--   presence (connections, online and grace marks) dropped, meta removed:<member> = removal time
--   (tokens issued before it are refused from now on) → 'member_removed' event {memberId, by}.
-- Reply: {'ok', version} (VersionReply); refusals {'invalid_argument', reason} (ScriptReply.Detail).
if not room_exists() then return {'room_not_found'} end
local member, by = ARGV[4], ARGV[5]
if redis.call('HEXISTS', MEMBERS, member) == 0 then return {'invalid_argument', 'not_member'} end
if redis.call('HEXISTS', META, 'owner:' .. member) == 1 then return {'invalid_argument', 'owner'} end
if not take_member_op(by, ARGV[7]) then return {'rate_limited'} end

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
redis.call('HSET', META, 'removed:' .. member, ARGV[6])
local version = append_event('member_removed', { memberId = member, by = by })
touch()
return {'ok', int(version)}
