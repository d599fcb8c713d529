-- Take a cluster-wide lease for one provider call, first come first served across instances.
-- Time is Redis's own clock, so the instances' clocks never matter.
-- KEYS: leases (lease id -> expiry ms), queue (ticket -> arrival number),
--       tickets (ticket -> expiry ms: a crashed waiter's ticket lapses), seq (arrival counter)
-- ARGV: id, limit, lease_ms, ticket_ms
-- Returns {1, held, 0} when granted, {0, held, position} while waiting (position 1 is next).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id, limit = ARGV[1], tonumber(ARGV[2])
local lease_ms, ticket_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
-- Reap: expired leases (a crashed instance's) and lapsed tickets.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- Scores zen never writes (a lease or ticket due far past any renewal, forged or corrupted)
-- would block the provider cluster-wide for ever: they go too.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + lease_ms * 4), '+inf')
redis.call('ZREMRANGEBYSCORE', KEYS[3], '(' .. (now + ticket_ms * 4), '+inf')
for _, stale in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[2], stale)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local free = limit - held
local rank = redis.call('ZRANK', KEYS[2], id)
if not rank then
  if free > 0 and redis.call('ZCARD', KEYS[2]) == 0 then
    rank = 0 -- nobody queued: no ticket needed
  else
    redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), id)
    rank = redis.call('ZRANK', KEYS[2], id)
  end
end
if rank < free then
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[1], now + lease_ms, id)
  redis.call('PEXPIRE', KEYS[1], lease_ms * 2)
  return {1, held + 1, 0}
end
redis.call('ZADD', KEYS[3], now + ticket_ms, id)
-- An idle provider's keys go away by themselves.
local idle = math.max(lease_ms, ticket_ms) * 2
for i = 2, 4 do redis.call('PEXPIRE', KEYS[i], idle) end
return {0, held, rank + 1}
