-- A live thread, pinned (a lease, renewed by each checkout) so no instance evicts it under a
-- call; an expired one is removed and reported as gone.
-- ARGV: prefix, id, expired_before_ms, pin_lease_ms
-- Returns {} when absent, else {created_ms, updated_ms, turn_count, dropped_turns, turn...}
local P, id = ARGV[1], ARGV[2]
local cutoff, lease = tonumber(ARGV[3]), tonumber(ARGV[4])
local hk = P .. 't:' .. id
local h = redis.call('HMGET', hk, 'created_ms', 'updated_ms', 'turn_count', 'dropped_turns')
local pk = P .. 'pin:' .. id
local others = tonumber(redis.call('GET', pk)) or 0
if not h[1] then return {} end
if tonumber(h[2]) <= cutoff and others == 0 then
  local b = tonumber(redis.call('HGET', P .. 'bytes', id)) or 0
  redis.call('DEL', hk, P .. 'turns:' .. id, P .. 'sizes:' .. id)
  redis.call('HDEL', P .. 'bytes', id)
  redis.call('ZREM', P .. 'lru', id)
  redis.call('HINCRBY', P .. 'totals', 'bytes', -b)
  redis.call('HINCRBY', P .. 'totals', 'threads', -1)
  return {'expired'}
end
redis.call('INCR', pk)
redis.call('PEXPIRE', pk, lease)
local out = {h[1], h[2], h[3], h[4]}
for _, t in ipairs(redis.call('LRANGE', P .. 'turns:' .. id, 0, -1)) do table.insert(out, t) end
return out
