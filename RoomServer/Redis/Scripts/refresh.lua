-- refresh.lua — Refresh: ask every member to reload.
-- ARGV 4 by (member id)  5 the token's removal generation (claim rgen, 0 if absent)  6 the member's
--      write rate (take_member_op)
-- Checks: room exists (room_not_found); the member was not removed after the token was issued
--   (forbidden); the room is not closed (room_closed: closed is final and read only — not even a
--   reader who came after it closed, who is no member, adds to it); the member's write rate
--   (rate_limited). Effects: 'refresh' event {by}. Reply: {'ok', version} (VersionReply).
if not room_exists() then return {'room_not_found'} end
if removed_since(ARGV[4], ARGV[5]) then return {'forbidden'} end
if redis.call('HGET', META, 'state') == 'closed' then return {'room_closed'} end
if not take_member_op(ARGV[4], ARGV[6]) then return {'rate_limited'} end
local version = append_event('refresh', { by = ARGV[4] })
touch()
return {'ok', int(version)}
