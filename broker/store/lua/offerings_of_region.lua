-- Every offering of a region, as HGETALL gives each, in one round trip: an
-- arrival reads them on the request path (RedisDirectoryStore).
--
-- KEYS: 1 the region's index of offerings ("<provider>:<offering>").
-- ARGV: 1 the region's key prefix ("slussen:{r13}:"), so that the hashes,
--   not declared, share the index's slot.
-- Reply: one HGETALL reply an offering, in the index's order.

local out = {}
for i, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  out[i] = redis.call('HGETALL', ARGV[1] .. 'offering:' .. id)
end
return out
