-- Counting a region's open clocks by kind and stage without reading them
-- (redis_referral_store_clocks.cc, CountClocks; core::ClockStage: 0 open,
-- 1 warned, 2 breached, 3 escalated). Included by the scripts that write
-- a clock (change.lua, clock_steps.lua) and that count (clock_tallies.lua,
-- tally_open_clocks.lua).
--
-- The counts: the hash `tallies` (keys::ClockTallies), fields
-- "<epoch>:<kind>:<stage>", with `epoch` (0 if unset) and `swept` (the
-- epoch whose counting of the clocks written before counts were kept is
-- done, or was never needed: no clock was open when one was first
-- counted). A counted clock's hash keeps `tally`, "<epoch>:<kind>:<stage>"
-- of its `data` as written; a clock is counted at the stage its plan's
-- steps at or before its region's `fired` (keys::ClocksFired) take it to.
-- Each later step is a move at its instant: field
-- "<epoch>:<kind>:<from>:<to>" of the hash `moves_prefix`<instant>
-- (keys::ClockTallyMovesAt), its instant in the sorted set `moves`
-- (keys::ClockTallyMoves), applied once `fired` has passed it
-- (clock_tallies.lua). A step counts as taken from the moment `fired`
-- passes its instant, whether the clock's own place in the due set has
-- (a reader's rule, clock_plan.lua) or not: the two differ only while a
-- backlog waits for FirePlanned. A new epoch (HINCRBY tallies epoch 1)
-- counts every clock afresh: counts and `tally` fields of another epoch
-- are left out.

-- The stage a step of type `t` (an EventType number, as a plan keeps it)
-- leaves a clock at: CLOCK_WARNING 15, CLOCK_BREACHED 16, CLOCK_ESCALATED
-- 17.
local tally_stage_after = {['15'] = '1', ['16'] = '2', ['17'] = '3'}

-- Adds `n` to field `field` of hash `key`, removing it at 0; the count.
local function tally_add(key, field, n)
  local count = redis.call('HINCRBY', key, field, n)
  if count == 0 then redis.call('HDEL', key, field) end
  return count
end

-- Counts a clock in (`sign` 1) or out (-1): `counted` its `tally`
-- ("<epoch>:<kind>:<stage>"; nothing when empty or of another epoch than
-- `epoch`), `plan` its plan (laid out as in clock_plan.lua), `fired` how
-- far its region's planned steps have fired (false: not yet).
local function tally_count(tallies, moves, moves_prefix, epoch, counted,
                           plan, fired, sign)
  if not counted or counted == '' then return end
  local e, kind, stage = string.match(counted, '^(%d+):(%d+):(%d)$')
  if e ~= epoch then return end
  local w = fired and tonumber(fired)
  local mine = epoch .. ':' .. kind .. ':'
  local later = {}
  local n, p = #(plan or ''), 1
  while p < n do
    local l = string.byte(plan, p)
    local at = string.sub(plan, p + 1, p + l)
    local type_at = p + 1 + l
    local after = tally_stage_after[string.sub(plan, type_at + 1, type_at +
                                               string.byte(plan, type_at))]
    if after then
      if w and tonumber(at) <= w then
        stage = after
      else
        later[#later + 1] = {at, after}
      end
    end
    p = type_at
    for _ = 1, 3 do p = p + 1 + string.byte(plan, p) end
  end
  tally_add(tallies, mine .. stage, sign)
  for _, step in ipairs(later) do
    -- A move counted 2 or more was counted before, its instant with it:
    -- `moves` has the instant (which leaves only with the instant's hash,
    -- clock_tallies.lua), and most clocks of a day share their instants.
    if tally_add(moves_prefix .. step[1], mine .. stage .. ':' .. step[2],
                 sign) < 2 and sign > 0 then
      redis.call('ZADD', moves, step[1], step[1])
    end
    stage = step[2]
  end
end

-- A write of the clock of hash `key` (its `tally` and `plan` as stored
-- before it): counts it out as it was and in as `tally` ("<kind>:<stage>"
-- of its new `data`; empty when it is closed) and `plan` (its new plan)
-- say, and stores its new `tally`. Before the write of its plan and of
-- its place among its region's open clocks (`open`): a region with none
-- open has none to count (tally_open_clocks.lua), and is marked so.
local function tally_write(key, tallies, moves, moves_prefix, fired, open,
                           tally, plan)
  local marks = redis.call('HMGET', tallies, 'epoch', 'swept')
  local epoch = marks[1] or '0'
  if marks[2] ~= epoch and redis.call('ZCARD', open) == 0 then
    redis.call('HSET', tallies, 'swept', epoch)
  end
  local h = redis.call('HMGET', key, 'tally', 'plan')
  tally_count(tallies, moves, moves_prefix, epoch, h[1], h[2], fired, -1)
  local counted = tally ~= '' and epoch .. ':' .. tally or ''
  tally_count(tallies, moves, moves_prefix, epoch, counted, plan, fired, 1)
  redis.call('HSET', key, 'tally', counted)
end
