-- Renew this instance's leases of one provider, reap lapsed ones, read the cluster's figures.
-- KEYS: leases, queue, tickets (as in acquire.lua)
-- ARGV: lease_ms, lease id...
-- Returns {held, queued, lost id...}: a lost lease lapsed before it could be renewed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease_ms = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, stale in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[2], stale)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease_ms, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
if #ARGV > #lost + 1 then redis.call('PEXPIRE', KEYS[1], lease_ms * 2) end
local out = {tostring(redis.call('ZCARD', KEYS[1])), tostring(redis.call('ZCARD', KEYS[2]))}
for _, id in ipairs(lost) do table.insert(out, id) end
return out
