-- A size, not a layout the broker reads (tests/bench/memory_bench.sh): each
-- referral of a region written again into database 1 as one hash holding
-- its clocks too (a clock's field F as "<suffix>:F", e.g. "1-0:data"), with
-- the names its keys already say (the referral's and the clock's) cut out
-- of the values. What the layout BENCHMARKS.md names would store.
--
-- KEYS[1]: the region's `referrals` set. ARGV[1]: the region's key prefix
-- ("slussen:{r13}:"), ARGV[2]: its resource name ("regions/13/").
-- Reply: the referrals written.
local prefix, region = ARGV[1], ARGV[2]

-- `s` with every occurrence of `needle` cut out.
local function without(s, needle)
  local out, from = {}, 1
  while true do
    local a, b = string.find(s, needle, from, true)
    if not a then break end
    out[#out + 1] = string.sub(s, from, a - 1)
    from = b + 1
  end
  out[#out + 1] = string.sub(s, from)
  return table.concat(out)
end

local written = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local referral_name = '/' .. region .. 'referrals/' .. id
  local h = redis.call('HGETALL', prefix .. 'referral:' .. id)
  local fields = {}
  for i = 1, #h, 2 do
    local suffix = string.match(h[i], '^clock(%-.*)$')
    if suffix then
      local clock_id = id .. suffix
      local c = redis.call('HGETALL', prefix .. 'clock:' .. clock_id)
      for j = 1, #c, 2 do
        fields[#fields + 1] = string.sub(suffix, 2) .. ':' .. c[j]
        fields[#fields + 1] = without(without(c[j + 1], referral_name),
                                      region .. 'clocks/' .. clock_id)
      end
    else
      fields[#fields + 1] = h[i]
      fields[#fields + 1] = without(h[i + 1], referral_name)
    end
  end
  redis.call('SELECT', 1)
  redis.call('HSET', prefix .. 'referral:' .. id, unpack(fields))
  redis.call('SELECT', 0)
  written = written + 1
end
return written
