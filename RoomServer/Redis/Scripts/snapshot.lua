-- snapshot.lua — GET /api/rooms/{id}: the whole room, read atomically at one version.
-- ARGV 4 presence grace ms  5 presence lease ms
-- Checks: room exists (room_not_found).
-- Effects: presence swept first (sweep_presence: may announce members offline), so a room that no
--   replica ticks still reads right. No event, no TTL refresh. Reply: snapshot_reply().
if not room_exists() then return {'room_not_found'} end
sweep_presence(now_ms(), tonumber(ARGV[4]), tonumber(ARGV[5]))
return snapshot_reply()
