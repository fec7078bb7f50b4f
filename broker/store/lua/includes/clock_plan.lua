-- Reading a clock's plan (redis_referral_store_clocks.cc, EncodePlan): its
-- steps one after another, each four fields, each a byte of length and its
-- bytes, the first the step's time (ms); steps are in time order. Included
-- by the scripts that check or write a clock (change.lua, clock_steps.lua).
--
-- A step has fired when it is before the clock's place in its region's due
-- set (the one at the place is the next to take) and at or before how far
-- the region's planned steps have fired (`fired`, keys::ClocksFired). A
-- step before the place and after `fired` is prepared: its event waits in
-- the hash of its instant (keys::ClockStepsPreparedAt) for `fired` to pass
-- it.

-- The number of steps of `plan` that have fired when the clock's place has
-- `score` (false: it has none) and its region's planned steps have fired up
-- to `fired` (ms; false: not kept yet, as in a store from before steps were
-- prepared ahead, where the place alone tells).
local function steps_fired(plan, score, fired)
  local n, p, k = #(plan or ''), 1, 0
  local s, w = score and tonumber(score), fired and tonumber(fired)
  while p < n do
    local l = string.byte(plan, p)
    local at = tonumber(string.sub(plan, p + 1, p + l))
    if (s and at >= s) or (w and at > w) then break end
    for _ = 1, 4 do p = p + 1 + string.byte(plan, p) end
    k = k + 1
  end
  return k
end

-- Removes the prepared events of clock `id` (its steps before `score` and
-- after `fired`), as a write of the clock must: its new plan replaces what
-- they announce. `prefix` is the prepared hashes' key less the instant.
local function withdraw_prepared(plan, score, fired, prefix, id)
  if not fired then return end
  local n, p, last = #(plan or ''), 1, nil
  local s, w = score and tonumber(score), tonumber(fired)
  while p < n do
    local l = string.byte(plan, p)
    local at = string.sub(plan, p + 1, p + l)
    if s and tonumber(at) >= s then break end
    if tonumber(at) > w and at ~= last then
      redis.call('HDEL', prefix .. at, id)
      last = at
    end
    for _ = 1, 4 do p = p + 1 + string.byte(plan, p) end
  end
end
