-- A page of a subject's audit records, in one round trip
-- (RedisAuditStore).
--
-- KEYS: 1 the subject's index (a list of stream ids), 2 the region's audit
--   stream.
-- ARGV: 1 the first index to read, 2 the last (LRANGE's start and stop).
-- Reply: {the index's length, {entries}}, each entry as XRANGE gives it
--   ({id, fields}); an id whose entry is gone is left out.

local ids = redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])
local out = {}
for _, id in ipairs(ids) do
  local entry = redis.call('XRANGE', KEYS[2], id, id)
  if entry[1] then out[#out + 1] = entry[1] end
end
return {redis.call('LLEN', KEYS[1]), out}
