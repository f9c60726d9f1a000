-- notice.lua — POST /api/rooms/{id}/notices from the menu app.
-- ARGV 4 kind  5 payload (raw JSON text, already validated and size-checked by the caller)
--      6 the request's digest and 7 the key's lifetime in seconds (only with KEYS[10])
-- KEYS 10 (only with an Idempotency-Key): rs:{id}:notice:<keyId>:<key>, '<digest> <version>' of the notice
--      applied under it, kept for RoomServer:IdempotencyKeyHours (its own expiry, not the room's).
-- Checks: a known Idempotency-Key first, so a retry gets its first answer even after the room closed or
--   went: the same digest → {'ok', version, 'replay'} (nothing applied; its record rewritten as
--   confirm_earlier does, so the caller's WAIT confirms the first notice too), another →
--   {'idempotency_mismatch'} (the record rewritten too: a key is refused only for a record a replica holds). Then: room exists (room_not_found); the room is not closed (room_closed:
--   closed is final and read only, as refresh.lua — a locked room still takes notices, e.g. an ETA for
--   the order handed off).
-- Effects: 'notice' event {kind, payload}; the key's record, in the same step. Reply: {'ok', version} (VersionReply).
local IDEM = KEYS[10]
if IDEM then
  local prior = redis.call('GET', IDEM)
  if prior then
    local digest, version = string.match(prior, '^(%x+) (%d+)$')
    -- Rewritten either way, so the caller's WAIT confirms the record it answers from (a refusal too).
    redis.call('SET', IDEM, prior, 'KEEPTTL')
    if digest ~= ARGV[6] then return {'idempotency_mismatch'} end
    return {'ok', version, 'replay'}
  end
end
if not room_exists() then return {'room_not_found'} end
if redis.call('HGET', META, 'state') == 'closed' then return {'room_closed'} end
local version = append_event('notice', { kind = ARGV[4], payload = ARGV[5] })
touch()
if IDEM then redis.call('SET', IDEM, ARGV[6] .. ' ' .. int(version), 'EX', ARGV[7]) end
return {'ok', int(version)}
