-- Retention of a region's event stream (RedisEventLog::RemoveBefore):
-- removes the entries before a position and remembers the last entry
-- removed, so that a reader resuming from before it is known to have
-- missed events, and one resuming from it or later is known not to have
-- (EventLog::RemovedBefore).
--
-- KEYS: 1 the region's events stream, 2 its events:removed-before.
-- ARGV: 1 the position ("<ms>-0") before which entries go.
-- Reply: the number of entries removed.

local last = redis.call('XREVRANGE', KEYS[1], '(' .. ARGV[1], '-', 'COUNT', 1)
if #last == 0 then
  return 0
end
local removed = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local before = redis.call('GET', KEYS[2])
local new_ms, new_seq = parts(last[1][1])
if before then
  local ms, seq = parts(before)
  if ms > new_ms or (ms == new_ms and seq >= new_seq) then
    return removed
  end
end
redis.call('SET', KEYS[2], last[1][1])
return removed
