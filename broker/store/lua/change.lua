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

-- @include includes/clock_plan.lua
-- @include includes/clock_tally.lua

local function parse(first, last)
  local ops, pos = {}, first
  while pos <= last do
    local n = tonumber(ARGV[pos + 1])
    local args = {}
    for j = 1, n do args[j] = ARGV[pos + 1 + j] end
    ops[#ops + 1] = {ARGV[pos], args}
    pos = pos + 2 + n
  end
  return ops
end
-- The type of key each write needs (or none yet).
local write_kinds = {HSET = 'hash', HDEL = 'hash', HINCRBY = 'hash',
                     HCLOSE = 'hash', CLOCKW = 'hash', TALLY = 'hash',
                     ZADD = 'zset',
                     ZREM = 'zset', SADD = 'set', SREM = 'set',
                     XADD = 'stream', AUDIT = 'stream'}
local function change(ops, base)
  -- Read before any write (a key of another type fails here, with nothing
  -- written); the script is atomic, so this is what they hold when written.
  local reads = {}
  -- The type of each key as the checks found it (no write runs before
  -- they end), so that a key checked absent or written twice is asked once.
  local types = {}
  for _, op in ipairs(ops) do
    local name, a = op[1], op[2]
    if name == 'IFEXISTS' then
      local value = redis.call('GET', KEYS[base + tonumber(a[1])])
      if value then return {0, value} end
    elseif name == 'READ' then
      reads[#reads + 1] = redis.call('GET', KEYS[base + tonumber(a[1])])
    elseif name == 'ABSENT' then
      local key = KEYS[base + tonumber(a[1])]
      if redis.call('EXISTS', key) == 1 then
        return redis.error_reply(a[3] .. ' ' .. a[2])
      end
      types[key] = 'none'
    elseif name == 'HEQ' then
      local key = KEYS[base + tonumber(a[1])]
      if a[5] == '1' and redis.call('EXISTS', key) == 0 then
        return redis.error_reply('NOT_FOUND ' .. a[4])
      end
      local actual = redis.call('HGET', key, a[2]) or ''
      if actual ~= a[3] then
        return redis.error_reply('ABORTED ' .. a[4] .. ' (' .. a[2] .. ' ' ..
                                 actual .. ', expected ' .. a[3] .. ')')
      end
    elseif name == 'CLOCKV' then
      local h = redis.call('HMGET', KEYS[base + tonumber(a[1])], 'version',
                           'plan')
      if not h[1] then return redis.error_reply('NOT_FOUND ' .. a[6]) end
      local version = tonumber(h[1]) + steps_fired(h[2],
          redis.call('ZSCORE', KEYS[base + tonumber(a[2])], a[4]),
          redis.call('GET', KEYS[base + tonumber(a[3])]))
      if version ~= tonumber(a[5]) then
        return redis.error_reply('ABORTED ' .. a[6] .. ' (version ' ..
                                 version .. ', expected ' .. a[5] .. ')')
      end
    elseif name == 'HFREE' then
      local p = a[2]
      local v = redis.call('HMGET', KEYS[base + tonumber(a[1])], p .. 'cap',
                           p .. 'occupied', p .. 'held')
      local free = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0) -
                   (tonumber(v[3]) or 0)
      if free <= 0 then
        return redis.error_reply('FAILED_PRECONDITION ' .. a[3])
      end
    elseif name == 'FITS' then
      local p = a[2]
      local v = redis.call('HMGET', KEYS[base + tonumber(a[1])],
                           p .. 'occupied', p .. 'held')
      if (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0) > tonumber(a[3]) then
        return redis.error_reply('FAILED_PRECONDITION ' .. a[4])
      end
    elseif (name == 'HSET' or name == 'XADD') and #a < 3 then
      return redis.error_reply('ERR change: ' .. name .. ' of ' ..
                               KEYS[base + tonumber(a[1])] .. ' has no fields')
    end
    -- A write Redis would refuse (a key of another type, a counter that is
    -- not an integer) must be found here: Redis does not roll a script
    -- back, so failing midway would leave the change written in part.
    local kind = write_kinds[name]
    if kind then
      local key = KEYS[base + tonumber(a[1])]
      local have = types[key]
      if not have then
        have = redis.call('TYPE', key)['ok']
        types[key] = have
      end
      if have ~= 'none' and have ~= kind then
        return redis.error_reply('ERR change: ' .. name .. ' of ' .. key ..
                                 ', which holds a ' .. have)
      end
      if name == 'HINCRBY' then
        local v = redis.call('HGET', key, a[2])
        if v and not string.match(v, '^%-?%d+$') then
          return redis.error_reply('ERR change: HINCRBY of ' .. key .. ' ' ..
                                   a[2] .. ', which is not an integer')
        end
      end
    end
  end
  local ids = {}
  for _, op in ipairs(ops) do
    local name, a = op[1], op[2]
    local key = KEYS[base + tonumber(a[1])]
    if name == 'HSET' then
      redis.call('HSET', key, unpack(a, 2))
    elseif name == 'HDEL' then
      redis.call('HDEL', key, a[2])
    elseif name == 'CLOCKW' then
      withdraw_prepared(redis.call('HGET', key, 'plan'),
                        redis.call('ZSCORE', KEYS[base + tonumber(a[2])], a[5]),
                        redis.call('GET', KEYS[base + tonumber(a[3])]), a[4],
                        a[5])
    elseif name == 'TALLY' then
      -- The clock's counts (clock_tally.lua): a[2] its region's tallies,
      -- a[3] their moves, a[4] how far it has fired, a[5] its open
      -- clocks, a[6] the moves' key less the instant, a[7] its new tally,
      -- a[8] its new plan.
      tally_write(key, KEYS[base + tonumber(a[2])], KEYS[base + tonumber(a[3])],
                  a[6], redis.call('GET', KEYS[base + tonumber(a[4])]),
                  KEYS[base + tonumber(a[5])], a[7], a[8])
    elseif name == 'HINCRBY' then
      redis.call('HINCRBY', key, a[2], a[3])
    elseif name == 'HCLOSE' then
      local v = redis.call('HMGET', key, a[2] .. 'occupied', a[2] .. 'held')
      redis.call('HSET', key, a[2] .. 'cap',
                 (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0),
                 a[2] .. 'closed', '1')
    elseif name == 'ZADD' then
      redis.call('ZADD', key, a[2], a[3])
    elseif name == 'ZREM' then
      redis.call('ZREM', key, a[2])
    elseif name == 'SADD' then
      redis.call('SADD', key, a[2])
    elseif name == 'SREM' then
      redis.call('SREM', key, a[2])
    elseif name == 'AUDIT' then
      -- Appends a record to an audit chain: key is the chain's stream,
      -- a[2] its head, a[3] the subject's index (0: none), a[4] the record.
      local head = KEYS[base + tonumber(a[2])]
      local previous = redis.call('HGET', head, 'hash') or ''
      local hash = redis.sha1hex(previous .. a[4])
      local id = redis.call('XADD', key, '*', 'r', a[4], 'p', previous,
                            'h', hash)
      redis.call('HSET', head, 'hash', hash)
      redis.call('HINCRBY', head, 'count', 1)
      if a[3] ~= '0' then
        redis.call('RPUSH', KEYS[base + tonumber(a[3])], id)
      end
    elseif name == 'SETPX' then
      redis.call('SET', key, a[2], 'PX', a[3])
    elseif name == 'XADD' then
      ids[#ids + 1] = redis.call('XADD', key, '*', unpack(a, 2))
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
  replies[#replies + 1] = change(parse(pos + 2, pos + 1 + count), base)
  pos = pos + 2 + count
end
return replies
