-- The open clocks after one, by its rank: a script, so that the rank and
-- the range are read at one instant.
--
-- KEYS: 1 the region's open clocks by due time.
-- ARGV: 1 the due time (ms) of the clock to start after, 2 its id, 3 ids
--   at most.
-- Reply: the ids after it, or nil when that clock is no longer there at
--   that due time (the caller then reads by score).

local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) ~= tonumber(ARGV[1]) then return false end
local rank = redis.call('ZRANK', KEYS[1], ARGV[2])
return redis.call('ZRANGE', KEYS[1], rank + 1, rank + tonumber(ARGV[3]))
