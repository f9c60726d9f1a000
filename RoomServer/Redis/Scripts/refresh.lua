-- refresh.lua — Refresh: ask every member to reload.
-- ARGV 4 by (member id)
-- Checks: room exists (room_not_found). Effects: 'refresh' event {by}. Reply: {'ok', version}.
if not room_exists() then return {'room_not_found'} end
local version = append_event('refresh', { by = ARGV[4] })
touch()
return {'ok', int(version)}
