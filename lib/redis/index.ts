/**
 * flux-token-manager/redis: a token store shared by a fleet of processes through Redis (ioredis),
 * so that N workers cost the token endpoint no more than one. This file only exports; see
 * docs/fleet.md for the protocol and its failure modes.
 */
export { RedisTokenStore } from './redis-store.js';
export {
  DEFAULT_KEY_PREFIX,
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_OUTAGE_TIMEOUT_MS,
  DEFAULT_POLL_INTERVAL_MS,
  type RedisTokenStoreOptions,
  type RateLimitOptions,
} from './options.js';
export { ENTRY_GRACE_MS } from './shared-entries.js';
export { clientHash } from './key-names.js';
