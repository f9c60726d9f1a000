-- audit.lua — GET /api/rooms/{id}/events: one page of the room's audit trail (KEYS[8]).
-- ARGV 4 from (a version, ≥ 1)  5 limit (1..1000)
-- Checks: room exists (room_not_found).
-- Effects: none — a read: no event, no TTL refresh.
-- Reply: {'ok', oldest version the trail holds ('' while it is empty), {event JSON...}} (AuditReply)
--   with the events of version ≥ from, oldest first, at most limit + 1 of them: an extra one tells
--   the reader that there is more after the page. Entry ids are <version>-0, so XRANGE from the
--   version is a seek, not a scan.
if not room_exists() then return {'room_not_found'} end
local head = redis.call('XRANGE', AUDIT, '-', '+', 'COUNT', 1)
local oldest = ''
if #head > 0 then oldest = string.match(head[1][1], '^(%d+)-') end
local entries = redis.call('XRANGE', AUDIT, ARGV[4], '+', 'COUNT', tonumber(ARGV[5]) + 1)
local events = {}
for i, entry in ipairs(entries) do events[i] = entry[2][2] end
return {'ok', oldest, events}
