/**
 * The Lua scripts, each atomic in Redis. Each touches one key, so they also run on a cluster.
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
