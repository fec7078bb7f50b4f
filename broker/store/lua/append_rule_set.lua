-- A new version of a deadline rule set (RedisDeadlineRuleStore::Append):
-- appended to its list of versions, and its id to the index, at once.
--
-- KEYS: 1 the rule set's list of versions, 2 the index of rule set ids.
-- ARGV: 1 the rule set (slussen.v1.DeadlineRuleSet, serialized), 2 its id.
-- Reply: the number of versions now (the new one's, 1-based).

local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return n
