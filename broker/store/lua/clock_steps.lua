-- A tick's steps of clocks that exist, each written as ClockInto writes a
-- clock of version > 0, with the same check (the version read, planned
-- steps fired since counted in), each step atomic on its own (a script call
-- runs whole). Lean on purpose: most of the midnight burst's Redis time
-- went into change.lua's parsing of some 45 arguments a step into tables
-- (measured 2026-12-01; BENCHMARKS.md's git history), not into the writes.
--
-- KEYS: 1 the region's clocks by next firing, 2 its open clocks by due
--   time, 3 its events, 4 its count of clock writes, 5 how far its planned
--   steps have fired, 6 its clock tallies, 7 their moves' instants, then
--   the hash of each step's clock.
-- ARGV: 1 the key of its prepared events less the instant, 2 the key of
--   its tallies' moves less the instant, then 10 a step: clock id, version
--   read, data, next firing (ms; '' none), due (ms; '' closed), event type
--   ('' none), event, the plan's two fields (plan, event), and its tally
--   ("<kind>:<stage>"; '' closed: clock_tally.lua).
-- Reply: a step each: the event's stream id ('' without an event), 0 when
--   the clock is gone, or {version found} when it is not the one read.

-- @include includes/clock_plan.lua
-- @include includes/clock_tally.lua

local replies, written = {}, 0
local fired = redis.call('GET', KEYS[5])
for i = 1, #KEYS - 7 do
  local key, a = KEYS[7 + i], 2 + (i - 1) * 10
  local id = ARGV[a + 1]
  local h = redis.call('HMGET', key, 'version', 'plan')
  local place = h[1] and redis.call('ZSCORE', KEYS[1], id)
  local version = h[1] and tonumber(h[1]) + steps_fired(h[2], place, fired)
  if not h[1] then
    replies[i] = 0
  elseif version ~= tonumber(ARGV[a + 2]) then
    replies[i] = {version}
  else
    withdraw_prepared(h[2], place, fired, ARGV[1], id)
    tally_write(key, KEYS[6], KEYS[7], ARGV[2], fired, KEYS[2], ARGV[a + 10],
                ARGV[a + 8])
    redis.call('HSET', key, 'data', ARGV[a + 3], 'version',
               tostring(version + 1), 'next', ARGV[a + 4],
               'plan', ARGV[a + 8], 'event', ARGV[a + 9])
    written = written + 1
    if ARGV[a + 4] == '' then
      redis.call('ZREM', KEYS[1], id)
    else
      redis.call('ZADD', KEYS[1], ARGV[a + 4], id)
    end
    if ARGV[a + 5] == '' then
      redis.call('ZREM', KEYS[2], id)
    else
      redis.call('ZADD', KEYS[2], ARGV[a + 5], id)
    end
    if ARGV[a + 6] == '' then
      replies[i] = ''
    else
      replies[i] = redis.call('XADD', KEYS[3], '*', 'type', ARGV[a + 6],
                              'event', ARGV[a + 7])
    end
  end
end
if written > 0 then redis.call('HINCRBY', KEYS[4], 'count', written) end
return replies
