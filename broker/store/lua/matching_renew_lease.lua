-- Extends a region's matching lease, only if this holder still has it
-- (RedisMatchingMarks).
--
-- KEYS: 1 the region's matching:lock.
-- ARGV: 1 the holder's token, 2 the lease's new life (ms).
-- Reply: 1 when extended, 0 when the lease is another's or gone.

if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
