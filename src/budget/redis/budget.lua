-- theory-llm's shared budget: the ledger of src/budget/ledger.rs, kept on the server,
-- each operation one atomic script run on the server's clock (TIME), so that no two
-- processes can both see room that only one of them may take.
--
-- KEYS[1]: the budget's prefix, `theory-llm:budget:{KEY}` (one hash slot).
-- ARGV[1]: the operation; ARGV[2]: the lease (ms) of a stream or of a place in line;
-- ARGV[3]: how many windows; then each window as three arguments: its kind (r, t or u:
-- requests, tokens, micro-USD), its period (ms) and its limit; then the operation's own
-- arguments.
--
-- Keys under the prefix:
--   :line   waiters in arrival order (sorted set: ticket -> order from :seq)
--   :alive  when each waiter's place lapses (sorted set: ticket -> ms); renewed each ask
--   :slots  streams alive (sorted set: grant -> ms its lease lapses); renewed while
--           the stream lives, so a killed process's streams come back within a lease
--   :hold   nothing is admitted before this (ms)
--   :w:K:P  window K/P: who was admitted when (sorted set: grant -> ms)
--   :a:K:P  window K/P: each grant's amount (hash)
--   :s:K:P  window K/P: their sum
--   :clients  a counter that numbers the processes (their tickets are unique)
-- A publish on `PREFIX:wake` tells waiters that the books changed.

if redis.replicate_commands then pcall(redis.replicate_commands) end

local p = KEYS[1]
local op = ARGV[1]
local lease = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local line, alive, slots = p .. ':line', p .. ':alive', p .. ':slots'
local arg0 = 4 + 3 * n

local windows = {}
for i = 0, n - 1 do
  local kind, period = ARGV[4 + 3 * i], tonumber(ARGV[5 + 3 * i])
  local suffix = kind .. ':' .. period
  windows[i + 1] = {
    kind = kind, period = period, limit = tonumber(ARGV[6 + 3 * i]),
    w = p .. ':w:' .. suffix, a = p .. ':a:' .. suffix, s = p .. ':s:' .. suffix,
  }
end

-- Calls `f` on `list` in slices, within the limit of Lua's unpack.
local function in_slices(list, f)
  for i = 1, #list, 1000 do
    f(unpack(list, i, math.min(i + 999, #list)))
  end
end

-- Forgets what left a window: entries admitted at or before now - period.
local function expire(win)
  local old = redis.call('ZRANGEBYSCORE', win.w, '-inf', now - win.period)
  if #old == 0 then return end
  local gone = 0
  in_slices(old, function(...)
    for _, x in ipairs(redis.call('HMGET', win.a, ...)) do gone = gone + (tonumber(x) or 0) end
    redis.call('HDEL', win.a, ...)
  end)
  redis.call('ZREMRANGEBYSCORE', win.w, '-inf', now - win.period)
  local sum = (tonumber(redis.call('GET', win.s)) or 0) - gone
  redis.call('SET', win.s, math.max(sum, 0))
end

local function sum_of(win)
  return tonumber(redis.call('GET', win.s)) or 0
end

-- Waiters that stopped asking leave the line; streams whose process stopped renewing
-- give their slot back.
local function lapse()
  local dead = redis.call('ZRANGEBYSCORE', alive, '-inf', now)
  if #dead > 0 then
    in_slices(dead, function(...) redis.call('ZREM', line, ...) end)
    redis.call('ZREMRANGEBYSCORE', alive, '-inf', now)
  end
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
end

-- Keys live a while past their use, then go by themselves.
local function keep(key, ms)
  redis.call('PEXPIRE', key, ms + 60000)
end

local function wake()
  redis.call('PUBLISH', p .. ':wake', '1')
end

if op == 'admit' then
  -- ARGV: ticket, tokens, micro-USD, streams allowed (-1: no limit).
  -- Returns {1} admitted; {0, retry_in or -1, held} wait; {2, window or 0} too large.
  local ticket = ARGV[arg0]
  local ask = { r = 1, t = tonumber(ARGV[arg0 + 1]), u = tonumber(ARGV[arg0 + 2]) }
  local concurrent = tonumber(ARGV[arg0 + 3])
  if concurrent == 0 then return {2, 0} end
  for i, win in ipairs(windows) do
    if ask[win.kind] > win.limit then
      redis.call('ZREM', line, ticket)
      return {2, i}
    end
  end
  lapse()
  local function join()
    if not redis.call('ZSCORE', line, ticket) then
      redis.call('ZADD', line, redis.call('INCR', p .. ':seq'), ticket)
    end
    redis.call('ZADD', alive, now + lease, ticket)
    for _, key in ipairs({line, alive, p .. ':seq'}) do keep(key, lease) end
  end
  local head = redis.call('ZRANGE', line, 0, 0)[1]
  if head and head ~= ticket then
    join()
    return {0, -1, 0}
  end
  local hold = tonumber(redis.call('GET', p .. ':hold')) or 0
  if hold > now then
    join()
    return {0, hold - now, 1}
  end
  local retry = 0
  for _, win in ipairs(windows) do
    expire(win)
    local need = sum_of(win) + ask[win.kind] - win.limit
    if need > 0 then
      local wait = win.period
      local entries = redis.call('ZRANGE', win.w, 0, -1, 'WITHSCORES')
      local freed = 0
      for j = 1, #entries, 2 do
        freed = freed + (tonumber(redis.call('HGET', win.a, entries[j])) or 0)
        if freed >= need then
          wait = math.max(1, tonumber(entries[j + 1]) + win.period - now)
          break
        end
      end
      retry = math.max(retry, wait)
    end
  end
  local full = concurrent > 0 and redis.call('ZCARD', slots) >= concurrent
  if retry > 0 or full then
    join()
    if retry == 0 then retry = -1 end
    return {0, retry, 0}
  end
  redis.call('ZREM', line, ticket)
  redis.call('ZREM', alive, ticket)
  redis.call('ZADD', slots, now + lease, ticket)
  keep(slots, lease)
  for _, win in ipairs(windows) do
    local amount = ask[win.kind]
    redis.call('ZADD', win.w, now, ticket)
    redis.call('HSET', win.a, ticket, amount)
    redis.call('INCRBY', win.s, amount)
    for _, key in ipairs({win.w, win.a, win.s}) do keep(key, win.period) end
  end
  -- The next in line may fit too.
  if redis.call('ZCARD', line) > 0 then wake() end
  return {1}
elseif op == 'end' then
  -- ARGV: grant, tokens used, micro-USD used. The stream's slot comes back and its
  -- reservation becomes what it used, in the windows it is still in.
  local grant = ARGV[arg0]
  local used = { t = tonumber(ARGV[arg0 + 1]), u = tonumber(ARGV[arg0 + 2]) }
  redis.call('ZREM', slots, grant)
  for _, win in ipairs(windows) do
    if win.kind ~= 'r' then
      local old = tonumber(redis.call('HGET', win.a, grant))
      if old then
        redis.call('HSET', win.a, grant, used[win.kind])
        local sum = sum_of(win) - old + used[win.kind]
        redis.call('SET', win.s, math.max(sum, 0), 'KEEPTTL')
      end
    end
  end
  wake()
  return 1
elseif op == 'renew' then
  -- ARGV: grants whose streams live. A lapsed one is not brought back: its slot may
  -- be another's by now.
  local renewed = 0
  for i = arg0, #ARGV do
    renewed = renewed + redis.call('ZADD', slots, 'XX', 'CH', now + lease, ARGV[i])
  end
  keep(slots, lease)
  return renewed
elseif op == 'leave' then
  -- ARGV: ticket, which gives up its place in line.
  local head = redis.call('ZRANGE', line, 0, 0)[1]
  redis.call('ZREM', line, ARGV[arg0])
  redis.call('ZREM', alive, ARGV[arg0])
  if head == ARGV[arg0] then wake() end
  return 1
elseif op == 'hold' then
  -- ARGV: ms. Nothing is admitted before now + ms.
  local ms = tonumber(ARGV[arg0])
  local held = tonumber(redis.call('GET', p .. ':hold')) or 0
  if now + ms > held then
    redis.call('SET', p .. ':hold', now + ms, 'PX', ms + 1000)
  end
  return 1
elseif op == 'spent' then
  -- Returns {streams alive, each window's sum}.
  lapse()
  local out = { redis.call('ZCARD', slots) }
  for _, win in ipairs(windows) do
    expire(win)
    out[#out + 1] = sum_of(win)
  end
  return out
elseif op == 'client' then
  -- A number for this process, to make its tickets unique.
  return redis.call('INCR', p .. ':clients')
end
return redis.error_reply('theory-llm budget: unknown operation ' .. tostring(op))
