-- choice_replay.lua — the result of a member's earlier SetChoice/AdjustChoice with this opId, for a retry
-- whose arguments no longer pass the hub's checks (DESIGN §2: a known opId returns its original result
-- and changes nothing, even if its arguments differ). Writes only its remembered result back
-- (confirm_earlier): the caller's WAIT then confirms the original write before the client is answered.
-- ARGV 4 memberId  5 opId  6 the token's removal generation (claim rgen, 0 if absent)
-- Checks, as choice.lua before its opId: room exists (room_not_found); the member was not removed after
--   the token was issued (forbidden).
-- Reply: {'ok', version, quantity} (ChoiceReply) for a known opId; {'unknown_op'} otherwise.
if not room_exists() then return {'room_not_found'} end
if removed_since(ARGV[4], ARGV[6]) then return {'forbidden'} end
local opKey = ARGV[4] .. ':' .. ARGV[5]
local prior = redis.call('HGET', OPS, opKey)
if not prior then return {'unknown_op'} end
confirm_earlier(OPS, opKey, prior)
local v, n = string.match(prior, '^(%d+):(%d+)$')
return {'ok', v, n}
