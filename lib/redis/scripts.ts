/**
 * The Lua scripts, each atomic in Redis. Each touches one key (KEYS[1]; a PUBLISH names a
 * channel, not a key), so they also run on a cluster.
 */

/**
 * Compare-and-set of an entry on its version, with the announcement of the write.
 * KEYS[1] the entry; ARGV: expected version (0: "was absent"), new value, PX, channel, message.
 * Writes only if the entry is absent or still at the expected version: a writer that read version
 * n writes n+1, so a slow writer whose n was overtaken never replaces the newer token. The version
 * is read as in entry-codec.ts (`versionOf`): up to 15 digits before a colon, else -1.
 * Returns 1 when written, 0 when refused.
 */
export const WRITE_IF_VERSION = `
local current = redis.call('GET', KEYS[1])
if current then
  local digits = string.match(current, '^(%d+):')
  local version = -1
  if digits and #digits <= 15 then version = tonumber(digits) end
  if version ~= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

/**
 * Compare-and-delete: releases the lock KEYS[1] only if it still holds this holder's fence ARGV[1],
 * and announces it (channel ARGV[2], message ARGV[3]), so that waiters look again at once: for the
 * new token, or, when the holder failed, for the free lock.
 */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

/** Compare-and-extend: resets the lock's lifetime to ARGV[2] ms, only while it holds the fence ARGV[1]. */
export const EXTEND_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/**
 * Takes `cost` requests from the fleet's budget, atomically, on Redis's clock (TIME): no process's
 * own clock is ever used, so a process whose clock is off cannot widen the window.
 * KEYS[1] the budget: a sorted set of requests, each scored with the instant its slot frees.
 * ARGV: the cap for this caller (the limit, or less for a background refresh), cost, interval,
 * lease, member prefix, then pairs of (member, ms) of requests this process made that Redis may not
 * hold (sent while Redis was away, or held before it restarted): each is put back, to free `ms`
 * from now, unless it is already held longer. Slots that have freed are dropped; when `cost` more fit under the cap, they
 * are added, held for interval + lease (until the holder settles them), and {1, 0} is returned.
 * Otherwise {0, ms}: the time until enough slots free, as far as the set knows (a slot still on its
 * lease may free sooner, when its request is settled).
 */
export const TAKE_BUDGET = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 6, #ARGV - 1, 2 do
  local score = now + tonumber(ARGV[i + 1])
  local held = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if not held or tonumber(held) < score then redis.call('ZADD', KEYS[1], score, ARGV[i]) end
end
local used = redis.call('ZCARD', KEYS[1])
local cap = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local hold = tonumber(ARGV[3]) + tonumber(ARGV[4])
if used + cost <= cap then
  for i = 1, cost do redis.call('ZADD', KEYS[1], now + hold, ARGV[5] .. ':' .. i) end
  redis.call('PEXPIRE', KEYS[1], hold)
  return {1, 0}
end
local slot = redis.call('ZRANGE', KEYS[1], used + cost - cap - 1, used + cost - cap - 1, 'WITHSCORES')
local wait = 1
if slot[2] then wait = math.max(1, tonumber(slot[2]) - now) end
return {0, wait}
`;

/**
 * Settles requests taken from the budget: each slot now frees `interval` ms after this instant
 * (Redis's clock), its request having reached the endpoint by now. KEYS[1] the budget; ARGV:
 * interval, then the members. A slot whose lease already ran out is put back: its request may have
 * reached the endpoint late, and counts until interval after now.
 */
export const SETTLE_BUDGET = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + interval, ARGV[i]) end
if redis.call('PTTL', KEYS[1]) < interval then redis.call('PEXPIRE', KEYS[1], interval) end
return 1
`;

/**
 * One process's heartbeat in the fleet's roll call, and the roll call's size, on Redis's clock.
 * KEYS[1] the roll call: a sorted set of process ids, each scored with the instant it lapses.
 * ARGV: this process's id, how long its beat lasts (ms). Lapsed processes are dropped; returns how
 * many are live, this one included.
 */
export const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;
