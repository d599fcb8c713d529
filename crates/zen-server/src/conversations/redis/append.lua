-- Append turns to a thread under zen's budget rules, atomically (one script: two instances
-- racing for a thread's last turns cannot both take them).
-- ARGV: prefix, id, now_ms, ttl_ms, max_turns, budget, threshold_bytes, thread_max,
--       tool, model ('' for none), first_prompt, n, turn JSON x n
-- Returns {stored, full, turn_count, dropped, thread_bytes, evicted, oversize, total_bytes,
--          threads, peak}
local P, id = ARGV[1], ARGV[2]
local now, ttl, maxt = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local budget, thresh, tmax = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local tool, model, first = ARGV[9], ARGV[10], ARGV[11]
local n = tonumber(ARGV[12])
local hk, lk, sk, tk = P .. 't:' .. id, P .. 'turns:' .. id, P .. 'sizes:' .. id, P .. 'totals'

local tot = redis.call('HMGET', tk, 'bytes', 'threads', 'touch', 'peak')
local tb, tt = tonumber(tot[1]) or 0, tonumber(tot[2]) or 0
local touch, peak = (tonumber(tot[3]) or 0) + 1, tonumber(tot[4]) or 0

local created, count, dropped, old = now, 0, 0, 0
local h = redis.call('HMGET', hk, 'created_ms', 'turn_count', 'dropped_turns', 'bytes', 'updated_ms')
local exists = h[1] and (tonumber(h[5]) + ttl > now)
if exists then
  created, count, dropped, old = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), tonumber(h[4])
  if count + n > maxt then return {0, 1, count, 0, old, 0, 0, tb, tt, peak} end
else
  -- An expired thread (or a stale entry of one) is gone: reconcile before starting anew.
  local stale = tonumber(redis.call('HGET', P .. 'bytes', id))
  if stale then
    tb, tt = tb - stale, tt - 1
    redis.call('HDEL', P .. 'bytes', id)
    redis.call('ZREM', P .. 'lru', id)
    redis.call('DEL', hk, lk, sk)
  end
end

local sizes = {}
if exists then
  for i, s in ipairs(redis.call('LRANGE', sk, 0, -1)) do sizes[i] = tonumber(s) end
end
local newsizes = {}
for i = 1, n do newsizes[i] = #ARGV[12 + i] end

local function header_len(c, dr)
  return #string.format('{"id":"%s","created_ms":%d,"updated_ms":%d,"turn_count":%d,"dropped_turns":%d,"turns":[]}',
    id, created, now, c, dr)
end
local function thread_bytes(c, dr, from)
  local sum, k = 0, 0
  for i = from, #sizes do sum, k = sum + sizes[i], k + 1 end
  for i = 1, n do sum, k = sum + newsizes[i], k + 1 end
  if k > 0 then sum = sum + k - 1 end
  return header_len(c, dr) + sum
end

local total = count + n
if thread_bytes(total, dropped + #sizes, #sizes + 1) > tmax then
  return {0, 0, count, 0, old, 0, n, tb, tt, peak}
end
local drop = 0
local bytes = thread_bytes(total, dropped, 1)
while bytes > tmax and drop < #sizes do
  drop = drop + 1
  bytes = thread_bytes(total, dropped + drop, drop + 1)
end

if not exists then tt = tt + 1 end
tb = tb - old
-- Crossing the budget evicts first: least recently updated, unpinned, at least 20%.
local evicted = 0
if tb + bytes > budget then
  local min = math.ceil(tt * 0.2)
  local start = 0
  while evicted < min or tb + bytes > thresh do
    local batch = redis.call('ZRANGE', P .. 'lru', start, start + 99)
    if #batch == 0 then break end
    for _, v in ipairs(batch) do
      if not (evicted < min or tb + bytes > thresh) then break end
      if v ~= id and redis.call('EXISTS', P .. 'pin:' .. v) == 0 then
        local b = tonumber(redis.call('HGET', P .. 'bytes', v)) or 0
        redis.call('DEL', P .. 't:' .. v, P .. 'turns:' .. v, P .. 'sizes:' .. v)
        redis.call('HDEL', P .. 'bytes', v)
        redis.call('ZREM', P .. 'lru', v)
        tb, tt, evicted = tb - b, tt - 1, evicted + 1
      else
        start = start + 1
      end
    end
  end
end

if drop > 0 then
  redis.call('LTRIM', lk, drop, -1)
  redis.call('LTRIM', sk, drop, -1)
end
for i = 1, n do
  redis.call('RPUSH', lk, ARGV[12 + i])
  redis.call('RPUSH', sk, newsizes[i])
end
redis.call('HSET', hk, 'created_ms', created, 'updated_ms', now, 'turn_count', total,
  'dropped_turns', dropped + drop, 'bytes', bytes, 'tool', tool)
if model ~= '' then redis.call('HSET', hk, 'model', model) end
if not exists then redis.call('HSET', hk, 'first_prompt', first) end
-- Redis's own expiry is the backstop; zen also checks updated_ms, on its own clock.
redis.call('PEXPIRE', hk, ttl)
redis.call('PEXPIRE', lk, ttl)
redis.call('PEXPIRE', sk, ttl)
redis.call('HSET', P .. 'bytes', id, bytes)
redis.call('ZADD', P .. 'lru', touch, id)
tb = tb + bytes
if tb > peak then peak = tb end
redis.call('HSET', tk, 'bytes', tb, 'threads', tt, 'touch', touch, 'peak', peak)
return {1, 0, total, drop, bytes, evicted, drop, tb, tt, peak}
