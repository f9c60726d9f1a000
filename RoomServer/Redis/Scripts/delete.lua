-- delete.lua — DELETE /api/rooms/{id}.
-- Checks: room exists (room_not_found).
-- Effects: a last 'state' event {state: 'deleted', by: 'api'} is published, then every key is removed
--   (the audit trail too: a deleted room has no record left).
-- Reply: {'ok', version} (VersionReply).
-- ARGV 4 '1' where writes are confirmed (ReplicasToAcknowledge > 0), else '0'.
-- Where writes are confirmed, a room not found still writes a second-long mark (KEYS[10], rs:{roomId}:deleting) for its
--   caller to WAIT on: the retry of a delete answered unavailable (applied on the master, no replica confirmed it) must
--   not hear "not found", which it takes as done, before a replica holds the deletion. WAIT counts only what its own
--   connection wrote, and a replica that has the mark has every earlier write of the master, the deletion included.
if not room_exists() then
  if ARGV[4] == '1' then redis.call('SET', KEYS[10], '1', 'PX', 1000) end
  return {'room_not_found'}
end
local version = append_event('state', { state = 'deleted', by = 'api' })
for i = 1, ROOM_KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', RATE)
return {'ok', int(version)}
