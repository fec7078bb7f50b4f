-- The end of a full matching pass that went through (RedisMatchingMarks,
-- match_scheduler.h): the changes it saw at its start are seen, unless a
-- later pass saw more; and the day it began is the day of the last pass.
--
-- KEYS: 1 the region's matching:seen, 2 its matching:passed.
-- ARGV: 1 the change count the pass saw at its start, 2 the civil day it
--   began ("2026-12-07").
-- Reply: 0.

if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('SET', KEYS[2], ARGV[2])
return 0
