-- Counts, a page at a time, the open clocks of a region that its counts do
-- not hold (clock_tally.lua): clocks written before counts were kept, or
-- before a new epoch began. Every clock written since is counted by its
-- write, so one pass over the open clocks completes the counts. The pass
-- is a ZSCAN, which returns every clock open throughout at least once (a
-- clock counted already is passed over; one not counted moves only by a
-- write, which counts it); its cursor is kept in the tallies (`sweep`:
-- "<epoch>:<cursor>"), so that any replica goes on where another stopped.
--
-- KEYS: 1 the region's clock tallies, 2 their moves' instants, 3 how far
--   its planned steps have fired, 4 its open clocks by due time.
-- ARGV: 1 the key of the tallies' moves less the instant, 2 the key of a
--   clock less its id, 3 clocks a page (about).
-- Reply: {'done' or 'more', clocks counted}; at 'done' the tallies are
--   marked swept for the epoch.

-- @include includes/clock_tally.lua

local tallies, moves = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', tallies, 'epoch') or '0'
if redis.call('HGET', tallies, 'swept') == epoch then return {'done', 0} end
local cursor = string.match(redis.call('HGET', tallies, 'sweep') or '',
                            '^' .. epoch .. ':(%d+)$') or '0'
local fired = redis.call('GET', KEYS[3])
local byte, floor = string.byte, math.floor

-- The kind and stage (core::StageOf) of a serialized Clock: its fields
-- kind 3, state 5 (BREACHED 4), escalation_level 12 and warned 13 (those
-- of protos/slussen/v1/deadline.proto); nil when it does not parse.
local function kind_and_stage(data)
  local p, n = 1, #data
  local function varint()
    local v, scale, b = 0, 1, 128
    while b >= 128 do
      b = byte(data, p)
      if not b then return nil end
      v = v + (b % 128) * scale
      scale = scale * 128
      p = p + 1
    end
    return v
  end
  local kind, state, level, warned = 0, 0, 0, 0
  while p <= n do
    local tag = varint()
    if not tag then return nil end
    local field, wire = floor(tag / 8), tag % 8
    if wire == 0 then
      local v = varint()
      if not v then return nil end
      if field == 3 then kind = v
      elseif field == 5 then state = v
      elseif field == 12 then level = v
      elseif field == 13 then warned = v end
    elseif wire == 2 then
      local length = varint()
      if not length then return nil end
      p = p + length
    elseif wire == 1 then
      p = p + 8
    elseif wire == 5 then
      p = p + 4
    else
      return nil
    end
  end
  local stage = 0
  if level >= 2 then stage = 3
  elseif level == 1 or state == 4 then stage = 2
  elseif warned ~= 0 then stage = 1 end
  return kind, stage
end

local scan = redis.call('ZSCAN', KEYS[4], cursor, 'COUNT', ARGV[3])
local counted = 0
local ids = scan[2]
for i = 1, #ids, 2 do
  local key = ARGV[2] .. ids[i]
  local h = redis.call('HMGET', key, 'tally', 'data', 'plan')
  local e = h[1] and string.match(h[1], '^(%d+):')
  if h[2] and e ~= epoch then
    local kind, stage = kind_and_stage(h[2])
    if kind then
      local tally = epoch .. ':' .. kind .. ':' .. stage
      tally_count(tallies, moves, ARGV[1], epoch, tally, h[3], fired, 1)
      redis.call('HSET', key, 'tally', tally)
      counted = counted + 1
    end
  end
end
if scan[1] == '0' then
  redis.call('HSET', tallies, 'swept', epoch)
  redis.call('HDEL', tallies, 'sweep')
  return {'done', counted}
end
redis.call('HSET', tallies, 'sweep', epoch .. ':' .. scan[1])
return {'more', counted}
