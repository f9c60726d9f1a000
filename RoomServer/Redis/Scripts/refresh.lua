-- refresh.lua — Refresh: ask every member to reload.
-- ARGV 4 by (member id)  5 the token's issue time (Unix ms)  6 the member's write rate (take_member_op)
-- Checks: room exists (room_not_found); the member was not removed after the token was issued
--   (forbidden); the member's write rate (rate_limited). Effects: 'refresh' event {by}. Reply: {'ok', version}
--   (VersionReply).
if not room_exists() then return {'room_not_found'} end
if removed_since(ARGV[4], ARGV[5]) then return {'forbidden'} end
if not take_member_op(ARGV[4], ARGV[6]) then return {'rate_limited'} end
local version = append_event('refresh', { by = ARGV[4] })
touch()
return {'ok', int(version)}
