-- Ends a region's matching lease, only if this holder still has it
-- (RedisMatchingMarks).
--
-- KEYS: 1 the region's matching:lock.
-- ARGV: 1 the holder's token.
-- Reply: 1 when ended, 0 when the lease is another's or gone.

if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
