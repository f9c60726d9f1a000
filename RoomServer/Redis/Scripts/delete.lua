-- delete.lua — DELETE /api/rooms/{id}.
-- Checks: room exists (room_not_found).
-- Effects: a last 'state' event {state: 'deleted', by: 'api'} is published, then every key is removed
--   (the audit trail too: a deleted room has no record left).
-- Reply: {'ok', version} (VersionReply).
if not room_exists() then return {'room_not_found'} end
local version = append_event('state', { state = 'deleted', by = 'api' })
for i = 1, ROOM_KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', RATE)
return {'ok', int(version)}
