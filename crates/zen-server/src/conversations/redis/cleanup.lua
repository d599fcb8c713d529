-- Free expired threads (oldest updates first, stopping at the first live one), then, past the
-- threshold or when forced, evict at least 20% of the unpinned least recently updated ones.
-- ARGV: prefix, expired_before_ms, threshold_bytes, force (0/1)
-- Returns {expired, evicted, total_bytes, threads, peak}
local P = ARGV[1]
local cutoff, thresh, force = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local tk = P .. 'totals'
local tot = redis.call('HMGET', tk, 'bytes', 'threads', 'peak')
local tb, tt, peak = tonumber(tot[1]) or 0, tonumber(tot[2]) or 0, tonumber(tot[3]) or 0

local function remove(v)
  local b = tonumber(redis.call('HGET', P .. 'bytes', v)) or 0
  redis.call('DEL', P .. 't:' .. v, P .. 'turns:' .. v, P .. 'sizes:' .. v)
  redis.call('HDEL', P .. 'bytes', v)
  redis.call('ZREM', P .. 'lru', v)
  tb, tt = tb - b, tt - 1
end

local expired, start = 0, 0
while true do
  local batch = redis.call('ZRANGE', P .. 'lru', start, start + 99)
  if #batch == 0 then break end
  local live = false
  for _, v in ipairs(batch) do
    local updated = tonumber(redis.call('HGET', P .. 't:' .. v, 'updated_ms'))
    if updated and updated > cutoff then live = true break end
    if redis.call('EXISTS', P .. 'pin:' .. v) == 0 then
      remove(v)
      expired = expired + 1
    else
      start = start + 1
    end
  end
  if live then break end
end

local evicted = 0
local over = tb > thresh
if over or force then
  local min = math.ceil(tt * 0.2)
  local target = over and thresh or math.huge
  start = 0
  while evicted < min or tb > target do
    local batch = redis.call('ZRANGE', P .. 'lru', start, start + 99)
    if #batch == 0 then break end
    for _, v in ipairs(batch) do
      if not (evicted < min or tb > target) then break end
      if redis.call('EXISTS', P .. 'pin:' .. v) == 0 then
        remove(v)
        evicted = evicted + 1
      else
        start = start + 1
      end
    end
  end
end
redis.call('HSET', tk, 'bytes', tb, 'threads', tt)
return {expired, evicted, tb, tt, peak}
