-- snapshot.lua — GET /api/rooms/{id}: the whole room, read atomically at one version.
-- ARGV 4 presence grace ms
-- Checks: room exists (room_not_found). No effects. Reply: snapshot_reply().
if not room_exists() then return {'room_not_found'} end
return snapshot_reply(now_ms(), tonumber(ARGV[4]))
