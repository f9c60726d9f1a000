-- notice.lua — POST /api/rooms/{id}/notices from the menu app.
-- ARGV 4 kind  5 payload (raw JSON text, already validated and size-checked by the caller)
-- Checks: room exists (room_not_found). Effects: 'notice' event {kind, payload}. Reply: {'ok', version}
--   (VersionReply).
if not room_exists() then return {'room_not_found'} end
local version = append_event('notice', { kind = ARGV[4], payload = ARGV[5] })
touch()
return {'ok', int(version)}
