-- Fires the planned steps due of a region's clocks, and prepares the events
-- of those due soon, inside Redis (redis_referral_store_clocks.cc).
--
-- KEYS: 1 the region's clocks by next firing, 2 its events, 3 how far its
--   planned steps have fired, 4 the instants of its prepared events. Every
--   key shares the region's hash tag, so a cluster node serves them all.
-- ARGV: 1 now (ms), 2 prepare until (ms, not before now), 3 clocks at
--   most, 4 the key of a clock less its id, 5 the key of the prepared
--   events less the instant.
-- Reply: {clocks taken, steps fired, {ids left for the keeper}, {the steps
--   fired by instant: instant (ms), steps, instant, steps, ...}}.
--
-- Steps at or before now (or "fired", if later) are appended; "fired"
-- moves to now (never back) when some are. First the prepared events of
-- every instant to append are appended, and their hashes removed. Then,
-- for each clock whose place in the due set is at or before the preparing
-- horizon (at most ARGV[3], soonest first): its steps from the one at its
-- place on, while they are at or before the horizon, each make their event
-- (the plan's `event`, the step's type and its instant as the event's
-- time); a step to append is appended at once, a later one is prepared:
-- kept in the hash of its instant under the clock's id (a clock's events
-- there framed as in a batch). Its place moves to its next step (all
-- places in one command at the end); nothing else of the clock is written.
-- So the steps of the midnight burst, prepared in the minutes before it,
-- cost at midnight only the copying of their events. Appended events go
-- 256 to a stream entry, its field `events` the events as protobuf lays out
-- a repeated message field 1 (RedisEventLog reads it). A clock without a
-- plan, or whose place is not one of its steps (stale), is left as it is
-- (named in the reply when due), and so is one whose plan's tail is due
-- (after firing the steps before it); a place without its clock is removed.
--
-- The events are written here byte by byte: the field numbers below (the
-- Event's time, 3; a Timestamp's seconds, 1, and nanos, 2) are those of
-- protos/slussen/v1/event.proto and google/protobuf/timestamp.proto, and
-- PlannedFiringTest (tests/integration/redis_referral_store_clocks_test.cc)
-- parses every event written back with protobuf to keep them so.

local now, horizon = tonumber(ARGV[1]), tonumber(ARGV[2])
local fired = redis.call('GET', KEYS[3])
if not fired then
  fired = ARGV[1]
  redis.call('SET', KEYS[3], fired)
end
-- Steps up to `w` are appended; "fired" is moved to it (below) only when
-- some are, so that a call with nothing to append writes nothing.
local w = tonumber(fired)
if w < now then w, fired = now, ARGV[1] end
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[2], 'BYSCORE',
                       'LIMIT', 0, ARGV[3], 'WITHSCORES')
local byte, sub, char, floor = string.byte, string.sub, string.char,
                               math.floor
-- A protobuf varint.
local function varint(n)
  local out = ''
  while n >= 128 do
    out = out .. char(n % 128 + 128)
    n = floor(n / 128)
  end
  return out .. char(n)
end
-- The Event's field time (3) at `at` (ms): a Timestamp, seconds (1) and
-- nanos (2). Made once an instant (most steps share a few).
local times = {}
local function time_field(at)
  local field = times[at]
  if field then return field end
  local ms = tonumber(at)
  local seconds = floor(ms / 1000)
  local nanos = (ms - seconds * 1000) * 1000000
  local stamp = '\8' .. varint(seconds)
  if nanos > 0 then stamp = stamp .. '\16' .. varint(nanos) end
  field = '\26' .. varint(#stamp) .. stamp
  times[at] = field
  return field
end
-- Appending: events in pieces, 256 events to a stream entry; the steps
-- appended counted by their instant (`at`, ms as a string), for the reply.
local steps, pieces, in_entry = 0, {}, 0
local by_instant, instants_fired = {}, {}
local function flush()
  if in_entry > 0 then
    redis.call('XADD', KEYS[2], '*', 'events', table.concat(pieces))
    pieces, in_entry = {}, 0
  end
end
local function append(framed, count, at)
  pieces[#pieces + 1] = framed
  in_entry = in_entry + count
  steps = steps + count
  if not by_instant[at] then instants_fired[#instants_fired + 1] = at end
  by_instant[at] = (by_instant[at] or 0) + count
  if in_entry >= 256 then flush() end
end
-- The prepared instants now passed, soonest first: each clock's events
-- (a hash value) counted by their framing (a tag byte, a varint length).
for _, at in ipairs(redis.call('ZRANGE', KEYS[4], '-inf', fired,
                               'BYSCORE')) do
  local key = ARGV[5] .. at
  for _, value in ipairs(redis.call('HVALS', key)) do
    local q, m, count = 1, #value, 0
    while q <= m do
      q = q + 1
      local length, scale, b = 0, 1, 128
      while b >= 128 do
        b = byte(value, q)
        length = length + (b % 128) * scale
        scale = scale * 128
        q = q + 1
      end
      q = q + length
      count = count + 1
    end
    append(value, count, at)
  end
  redis.call('UNLINK', key)
  redis.call('ZREM', KEYS[4], at)
end
local left, instants = {}, {}
local adds, removes = {'ZADD', KEYS[1]}, {'ZREM', KEYS[1]}
for i = 1, #due, 2 do
  local id, place = due[i], tonumber(due[i + 1])
  local h = redis.call('HMGET', ARGV[4] .. id, 'version', 'plan', 'event')
  if not h[1] then
    removes[#removes + 1] = id
  else
    -- The plan's steps (EncodePlan), read in place: each its time, type,
    -- clock fields and event field, a byte of length before each.
    local plan, event = h[2] or '', h[3] or ''
    local p, n, at_place, next, next_due = 1, #plan, false, nil, false
    -- This clock's events prepared at one instant, and the instant.
    local kept, kept_at = nil, nil
    while p < n do
      local l = byte(plan, p)
      local at = sub(plan, p + 1, p + l)
      local type_at = p + 1 + l
      local type_length = byte(plan, type_at)
      local event_at = type_at + 2 + type_length + byte(plan, type_at + 1 +
                                                         type_length)
      local event_length = byte(plan, event_at)
      local t = tonumber(at)
      if t >= place then
        if not at_place then
          if t ~= place then break end
          at_place = true
        end
        if type_length == 0 or t > horizon then
          next, next_due = at, type_length == 0 and t <= now
          break
        end
        local time = time_field(at)
        local framed = '\10' .. varint(#event + event_length + #time) ..
                       event .. sub(plan, event_at + 1, event_at +
                                    event_length) .. time
        if t <= w then
          append(framed, 1, at)
        elseif kept_at == at then
          kept = kept .. framed
        else
          if kept then redis.call('HSET', ARGV[5] .. kept_at, id, kept) end
          kept, kept_at = framed, at
          instants[at] = true
        end
      end
      p = event_at + 1 + event_length
    end
    if kept then redis.call('HSET', ARGV[5] .. kept_at, id, kept) end
    if not at_place then
      if place <= now then left[#left + 1] = id end
    elseif not next then
      removes[#removes + 1] = id
    else
      adds[#adds + 1] = next
      adds[#adds + 1] = id
      if next_due then left[#left + 1] = id end
    end
  end
end
if #adds > 2 then redis.call(unpack(adds)) end
if #removes > 2 then redis.call(unpack(removes)) end
local index = {'ZADD', KEYS[4]}
for at in pairs(instants) do
  index[#index + 1] = at
  index[#index + 1] = at
end
if #index > 2 then redis.call(unpack(index)) end
flush()
if steps > 0 and tonumber(redis.call('GET', KEYS[3])) < w then
  redis.call('SET', KEYS[3], fired)
end
table.sort(instants_fired, function(a, b) return tonumber(a) < tonumber(b) end)
local fired_by_instant = {}
for _, at in ipairs(instants_fired) do
  fired_by_instant[#fired_by_instant + 1] = at
  fired_by_instant[#fired_by_instant + 1] = by_instant[at]
end
return {#due / 2, steps, left, fired_by_instant}
