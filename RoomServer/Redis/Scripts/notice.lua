-- notice.lua — POST /api/rooms/{id}/notices from the menu app.
-- ARGV 4 kind  5 payload (raw JSON text, already validated and size-checked by the caller)
-- Checks: room exists (room_not_found); the room is not closed (room_closed: closed is final and read
--   only, as refresh.lua — a locked room still takes notices, e.g. an ETA for the order handed off).
-- Effects: 'notice' event {kind, payload}. Reply: {'ok', version} (VersionReply).
if not room_exists() then return {'room_not_found'} end
if redis.call('HGET', META, 'state') == 'closed' then return {'room_closed'} end
local version = append_event('notice', { kind = ARGV[4], payload = ARGV[5] })
touch()
return {'ok', int(version)}
