-- Give back a lease, or withdraw a ticket whose caller gave up, and wake the waiters.
-- KEYS: leases, queue, tickets; ARGV: id, wakeup channel
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('PUBLISH', ARGV[2], '1')
return 1
