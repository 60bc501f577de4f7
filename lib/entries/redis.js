// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
import { createRequire } from 'node:module';
import { assertBuilt } from './built.cjs';

assertBuilt('redis/index.js');
const built = createRequire(import.meta.url)('../../dist/redis/index.js');

export const {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_OUTAGE_TIMEOUT_MS,
  DEFAULT_POLL_INTERVAL_MS,
  ENTRY_GRACE_MS,
  RedisTokenStore,
  clientHash,
} = built;
