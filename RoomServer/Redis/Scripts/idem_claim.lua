-- idem_claim.lua — the record of an Idempotency-Key for a write outside any room's script (room
-- creation, announcements; Redis/RedisIdempotencyRecords). Not prefixed with prelude.lua: it touches
-- only its own key, on the API key's slot.
-- KEYS 1 rs:key:{<keyId>}:idem:<scope>:<key>   string '<digest> <value>', expiring after the key's lifetime
-- ARGV 1 digest  2 value  3 replacing ('' = none)  4 lifetime in seconds
-- No record → this one is set. A record with this digest whose value is ARGV 3 → overwritten with ARGV 2,
-- its expiry kept. Any other record is rewritten as it is (expiry kept): the caller WAITs after every
-- claim, and a record another request wrote — perhaps answered unconfirmed — is then confirmed before
-- this one acts on it (as notice.lua and create.lua rewrite what they read).
-- Reply: {digest, value} of the record the key holds now (the caller compares digests).
local prior = redis.call('GET', KEYS[1])
if prior then
  local digest, value = string.match(prior, '^(%x+) (.*)$')
  if digest == ARGV[1] and ARGV[3] ~= '' and value == ARGV[3] then
    redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'KEEPTTL')
    return {ARGV[1], ARGV[2]}
  end
  redis.call('SET', KEYS[1], prior, 'KEEPTTL')
  return {digest, value}
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'EX', ARGV[4])
return {ARGV[1], ARGV[2]}
