-- One or more changes (RedisChange, redis_change.h), each checked, then
-- written, on its own.
--
-- KEYS: the keys of every change, one change's after another's.
-- ARGV: the changes, each: the number of ARGV items of its operations, the
--   offset of its keys in KEYS, then its operations, each: name, argument
--   count, arguments. Key arguments are 1-based indexes into the change's
--   own keys.
-- Reply: one element per change: {1, n, n stream ids..., the values its
--   READs read (nil: no key)...} when written, {0, value} for an IFEXISTS
--   replay, or the error of the check that failed
--   ("ABORTED ...", "NOT_FOUND ...", "ALREADY_EXISTS ...",
--   "FAILED_PRECONDITION ...", as StatusFromErrorReply maps them).
--
-- For each change in turn, the first loop runs every check, the second
-- every write, so a change whose check failed has written nothing. The
-- first loop also refuses an HSET or XADD without fields (Redis would fail
-- it midway, after the writes before it), so the writes cannot fail on
-- their arguments.
--
-- Every write of the broker runs here, so the script is written to be
-- cheap in Redis's Lua: globals read once into locals, an operation's
-- arguments read in place from ARGV (no table per operation), each key
-- index converted once (tests/bench/script_cost.sh measures it).

local ARGV, KEYS, call, tonumber, unpack = ARGV, KEYS, redis.call, tonumber,
                                            unpack

-- @include includes/clock_plan.lua
-- @include includes/clock_tally.lua

-- The type of key each write needs (or none yet).
local write_kinds = {HSET = 'hash', HDEL = 'hash', HINCRBY = 'hash',
                     HCLOSE = 'hash', CLOCKW = 'hash', TALLY = 'hash',
                     ZADD = 'zset',
                     ZREM = 'zset', SADD = 'set', SREM = 'set',
                     XADD = 'stream', AUDIT = 'stream'}

-- The change whose operations are ARGV[first..last], its keys after KEYS
-- index `base`. An operation's arguments are ARGV[p], ARGV[p + 1], ...
-- (p = at[i], n[i] of them); the first names its key (key[i]).
local function change(first, last, base)
  local names, at, n, key, count = {}, {}, {}, {}, 0
  local pos = first
  while pos <= last do
    count = count + 1
    names[count], at[count] = ARGV[pos], pos + 2
    n[count] = tonumber(ARGV[pos + 1])
    key[count] = KEYS[base + tonumber(ARGV[pos + 2])]
    pos = pos + 2 + n[count]
  end
  local function key_at(index) return KEYS[base + tonumber(index)] end
  -- Read before any write (a key of another type fails here, with nothing
  -- written); the script is atomic, so this is what they hold when written.
  local reads = {}
  -- The type of each key as the checks found it (no write runs before
  -- they end), so that a key checked absent or written twice is asked once.
  local types = {}
  for i = 1, count do
    local name, p, k = names[i], at[i], key[i]
    if name == 'IFEXISTS' then
      local value = call('GET', k)
      if value then return {0, value} end
    elseif name == 'READ' then
      reads[#reads + 1] = call('GET', k)
    elseif name == 'ABSENT' then
      -- p + 1: the message, p + 2: the code.
      if call('EXISTS', k) == 1 then
        return redis.error_reply(ARGV[p + 2] .. ' ' .. ARGV[p + 1])
      end
      types[k] = 'none'
    elseif name == 'HEQ' then
      -- p + 1: the field, p + 2: the value, p + 3: the message, p + 4:
      -- whether a missing key is NOT_FOUND.
      if ARGV[p + 4] == '1' and call('EXISTS', k) == 0 then
        return redis.error_reply('NOT_FOUND ' .. ARGV[p + 3])
      end
      local actual = call('HGET', k, ARGV[p + 1]) or ''
      if actual ~= ARGV[p + 2] then
        return redis.error_reply('ABORTED ' .. ARGV[p + 3] .. ' (' ..
                                 ARGV[p + 1] .. ' ' .. actual ..
                                 ', expected ' .. ARGV[p + 2] .. ')')
      end
    elseif name == 'CLOCKV' then
      -- p + 1: the due set, p + 2: fired, p + 3: the clock id, p + 4: the
      -- version, p + 5: the message.
      local h = call('HMGET', k, 'version', 'plan')
      if not h[1] then return redis.error_reply('NOT_FOUND ' .. ARGV[p + 5]) end
      local version = tonumber(h[1]) + steps_fired(h[2],
          call('ZSCORE', key_at(ARGV[p + 1]), ARGV[p + 3]),
          call('GET', key_at(ARGV[p + 2])))
      if version ~= tonumber(ARGV[p + 4]) then
        return redis.error_reply('ABORTED ' .. ARGV[p + 5] .. ' (version ' ..
                                 version .. ', expected ' .. ARGV[p + 4] ..
                                 ')')
      end
    elseif name == 'HFREE' then
      -- p + 1: the unit's prefix, p + 2: the message.
      local u = ARGV[p + 1]
      local v = call('HMGET', k, u .. 'cap', u .. 'occupied', u .. 'held')
      local free = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0) -
                   (tonumber(v[3]) or 0)
      if free <= 0 then
        return redis.error_reply('FAILED_PRECONDITION ' .. ARGV[p + 2])
      end
    elseif name == 'FITS' then
      -- p + 1: the unit's prefix, p + 2: the capacity, p + 3: the message.
      local u = ARGV[p + 1]
      local v = call('HMGET', k, u .. 'occupied', u .. 'held')
      if (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0) >
         tonumber(ARGV[p + 2]) then
        return redis.error_reply('FAILED_PRECONDITION ' .. ARGV[p + 3])
      end
    elseif (name == 'HSET' or name == 'XADD') and n[i] < 3 then
      return redis.error_reply('ERR change: ' .. name .. ' of ' .. k ..
                               ' has no fields')
    end
    -- A write Redis would refuse (a key of another type, a counter that is
    -- not an integer) must be found here: Redis does not roll a script
    -- back, so failing midway would leave the change written in part.
    local kind = write_kinds[name]
    if kind then
      local have = types[k]
      if not have then
        have = call('TYPE', k)['ok']
        types[k] = have
      end
      if have ~= 'none' and have ~= kind then
        return redis.error_reply('ERR change: ' .. name .. ' of ' .. k ..
                                 ', which holds a ' .. have)
      end
      if name == 'HINCRBY' then
        local v = call('HGET', k, ARGV[p + 1])
        if v and not string.match(v, '^%-?%d+$') then
          return redis.error_reply('ERR change: HINCRBY of ' .. k .. ' ' ..
                                   ARGV[p + 1] .. ', which is not an integer')
        end
      end
    end
  end
  local ids = {}
  for i = 1, count do
    local name, p, k = names[i], at[i], key[i]
    if name == 'HSET' then
      call('HSET', k, unpack(ARGV, p + 1, p + n[i] - 1))
    elseif name == 'HDEL' then
      call('HDEL', k, ARGV[p + 1])
    elseif name == 'CLOCKW' then
      -- p + 1: the due set, p + 2: fired, p + 3: the prepared events' key
      -- less the instant, p + 4: the clock id.
      withdraw_prepared(call('HGET', k, 'plan'),
                        call('ZSCORE', key_at(ARGV[p + 1]), ARGV[p + 4]),
                        call('GET', key_at(ARGV[p + 2])), ARGV[p + 3],
                        ARGV[p + 4])
    elseif name == 'TALLY' then
      -- The clock's counts (clock_tally.lua): p + 1 its region's tallies,
      -- p + 2 their moves, p + 3 how far it has fired, p + 4 its open
      -- clocks, p + 5 the moves' key less the instant, p + 6 its new
      -- tally, p + 7 its new plan.
      tally_write(k, key_at(ARGV[p + 1]), key_at(ARGV[p + 2]), ARGV[p + 5],
                  call('GET', key_at(ARGV[p + 3])), key_at(ARGV[p + 4]),
                  ARGV[p + 6], ARGV[p + 7])
    elseif name == 'HINCRBY' then
      call('HINCRBY', k, ARGV[p + 1], ARGV[p + 2])
    elseif name == 'HCLOSE' then
      local u = ARGV[p + 1]
      local v = call('HMGET', k, u .. 'occupied', u .. 'held')
      call('HSET', k, u .. 'cap', (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0),
           u .. 'closed', '1')
    elseif name == 'ZADD' then
      call('ZADD', k, ARGV[p + 1], ARGV[p + 2])
    elseif name == 'ZREM' then
      call('ZREM', k, ARGV[p + 1])
    elseif name == 'SADD' then
      call('SADD', k, ARGV[p + 1])
    elseif name == 'SREM' then
      call('SREM', k, ARGV[p + 1])
    elseif name == 'AUDIT' then
      -- Appends a record to an audit chain: k is the chain's stream, p + 1
      -- its head, p + 2 the subject's index (0: none), p + 3 the record.
      local head = key_at(ARGV[p + 1])
      local record = ARGV[p + 3]
      local previous = call('HGET', head, 'hash') or ''
      local hash = redis.sha1hex(previous .. record)
      local id = call('XADD', k, '*', 'r', record, 'p', previous, 'h', hash)
      call('HSET', head, 'hash', hash)
      call('HINCRBY', head, 'count', 1)
      if ARGV[p + 2] ~= '0' then call('RPUSH', key_at(ARGV[p + 2]), id) end
    elseif name == 'SETPX' then
      call('SET', k, ARGV[p + 1], 'PX', ARGV[p + 2])
    elseif name == 'XADD' then
      ids[#ids + 1] = call('XADD', k, '*', unpack(ARGV, p + 1, p + n[i] - 1))
    end
  end
  local reply = {1, #ids}
  for _, id in ipairs(ids) do reply[#reply + 1] = id end
  -- A key that was missing reads as false, which Redis answers as nil.
  for i = 1, #reads do reply[#reply + 1] = reads[i] end
  return reply
end
local replies, pos = {}, 1
while pos <= #ARGV do
  local count, base = tonumber(ARGV[pos]), tonumber(ARGV[pos + 1])
  replies[#replies + 1] = change(pos + 2, pos + 1 + count, base)
  pos = pos + 2 + count
end
return replies
