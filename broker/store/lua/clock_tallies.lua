-- A region's open clocks by kind and stage (redis_referral_store_clocks.cc,
-- CountClocks): the moves of the steps its planned firing has passed are
-- applied to the counts, which are then read (clock_tally.lua says how
-- they are kept).
--
-- KEYS: 1 the region's clock tallies, 2 their moves' instants, 3 how far
--   its planned steps have fired, 4 its open clocks.
-- ARGV: 1 the key of the tallies' moves less the instant.
-- Reply: {epoch, the epoch swept ('' none), then "<kind>:<stage>", count,
--   ... of the epoch}. A region without open clocks has none to count:
--   it is taken as swept, and nothing is written for it.

-- @include includes/clock_tally.lua

local tallies, moves = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', tallies, 'epoch') or '0'
local mine = epoch .. ':'
local fired = redis.call('GET', KEYS[3])
if fired then
  for _, at in ipairs(redis.call('ZRANGE', moves, '-inf', fired,
                                 'BYSCORE')) do
    local key = ARGV[1] .. at
    local fields = redis.call('HGETALL', key)
    for i = 1, #fields, 2 do
      local e, kind, from, to = string.match(fields[i],
                                             '^(%d+):(%d+):(%d):(%d)$')
      local n = tonumber(fields[i + 1])
      if e == epoch and n ~= 0 then
        tally_add(tallies, mine .. kind .. ':' .. from, -n)
        tally_add(tallies, mine .. kind .. ':' .. to, n)
      end
    end
    redis.call('UNLINK', key)
    redis.call('ZREM', moves, at)
  end
end
local swept = redis.call('HGET', tallies, 'swept') or ''
if swept ~= epoch and redis.call('ZCARD', KEYS[4]) == 0 then swept = epoch end
local out = {epoch, swept}
local all = redis.call('HGETALL', tallies)
for i = 1, #all, 2 do
  local e, rest = string.match(all[i], '^(%d+):(.*)$')
  if e == epoch then
    out[#out + 1] = rest
    out[#out + 1] = all[i + 1]
  elseif e then
    redis.call('HDEL', tallies, all[i])  -- an earlier epoch's count
  end
end
return out
