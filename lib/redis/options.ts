/**
 * The options of {@link RedisTokenStore}, their defaults, and their validation at construction.
 * Like every constructor of the library, a bad option throws a ConfigurationError that names it;
 * the encryption key is described by type and length only, never by value.
 */
import type { KeyObject } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ConfigurationError } from '../shared/errors.js';
import { DEFAULT_MAX_SCOPES } from '../store/lru-store.js';
import {
  describe,
  orDefault,
  rejectUnknownOptions,
  requireNumber,
  requireOptionsObject,
  requireString,
} from '../shared/validate.js';
import { parseEncryptionKey } from './cipher.js';

/** Default prefix of every key and channel the store uses. */
export const DEFAULT_KEY_PREFIX = 'flux-token:';
/** Default lifetime of a renewal lock, in ms: how long a dead holder blocks the fleet at most. */
export const DEFAULT_LOCK_TTL_MS = 15_000;
/** Default bound on one Redis command, in ms, before the store works alone for a while. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 500;
/**
 * Default bound on a late Redis answer on a live connection, in ms, before the store takes Redis
 * for down: a cold cluster client's first commands on busy cores, or a Redis paused for a
 * failover, answer within it.
 */
export const DEFAULT_OUTAGE_TIMEOUT_MS = 3_000;
/** Default pause between two looks at Redis while another process renews, in ms (pub/sub wakes it sooner). */
export const DEFAULT_POLL_INTERVAL_MS = 100;

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /**
   * The ioredis client to use. The store never quits it: `close()` leaves it connected, for the
   * application to close. The store opens one more connection of its own (a `duplicate()`, for
   * pub/sub) the first time it waits for another process, and closes it in `close()`. A `Cluster`
   * works too (every script touches one key), and so does a client of a Sentinel-managed master.
   * @example redis: new Redis(process.env.REDIS_URL)
   * @example redis: new Cluster([{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }])
   */
  redis: Redis | Cluster;
  /**
   * The client id whose tokens this store keeps: key names are derived from a hash of it and of the
   * manager's token URL (neither appears in Redis), so that two clients, or two token endpoints of
   * one client id, sharing one Redis never see each other's tokens. Optional: the TokenManager the
   * store is given to passes its own. When given, it must equal the manager's `clientId`, or the
   * manager's constructor throws.
   */
  clientId?: string;
  /**
   * Prefix of every key and channel, e.g. to separate environments or applications.
   * @default 'flux-token:'
   */
  keyPrefix?: string;
  /**
   * With a key, every value is encrypted with AES-256-GCM and bound to its key name, its version and
   * its expiry (the associated data), and a process refuses a value older than one it has already
   * seen for that key (see docs/fleet.md for what this protects against, and what not). 32 bytes: a
   * Buffer, or a string of 64 hex characters, or the base64 (or base64url) of 32 bytes.
   * Every process of the fleet must use the same key.
   * @example encryptionKey: process.env.FLUX_TOKEN_KEY // e.g. from `openssl rand -hex 32`
   */
  encryptionKey?: Buffer | string;
  /**
   * How many scopes the in-process LRU in front of Redis keeps.
   * @default 10000
   */
  maxScopes?: number;
  /**
   * Lifetime of a renewal lock, in ms. The holder keeps extending it while its request runs, so it
   * only bounds how long the fleet waits for a holder that died before another process takes over.
   * @default 15000
   */
  lockTtl?: number;
  /**
   * How long a Redis command may take, in ms, before it is late. A late answer on a live
   * connection is still waited for, up to `outageTimeout`: a slow Redis is not a dead one. Once
   * Redis is taken for down (`degraded`), a renewal waits this long at most for Redis before it
   * goes ahead alone. A failing command, or a lost connection, makes the store work alone at once;
   * a `getToken` never fails for it.
   * @default 500
   */
  commandTimeout?: number;
  /**
   * How long, in ms from when it was sent, a late Redis command on a live connection is still
   * waited for before the store takes Redis for down and works alone (reporting `degraded`) until
   * Redis answers again. Until then the fleet keeps to its protocol and its `rateLimit`, only more
   * slowly. At least `commandTimeout`.
   * @default Math.max(3000, commandTimeout)
   * @example outageTimeout: 1000 // a renewal that a caller waits for goes ahead alone after 1 s of silence
   */
  outageTimeout?: number;
  /**
   * While another process renews a token and pub/sub cannot be relied on (not yet subscribed, its
   * connection lost, or a Redis Cluster client, whose subscription may move unseen), how soon this one first looks at Redis again, in ms; each later look
   * waits twice as long, up to 1 s (or `lockTtl / 4`). With a live subscription, the holder's
   * announcement wakes it, and the poll (after that bound) only notices a holder that died.
   * @default 100
   */
  pollInterval?: number;
  /**
   * A budget on the token endpoint shared by every process of the fleet (every store with the same
   * prefix, client id and token URL): at most `limit` requests in any `interval` ms, counted in
   * Redis with Redis's own clock. Waiting callers go first: background refreshes leave `reserve`
   * requests of each interval to them. While Redis is unavailable, each process keeps to its own
   * queue limits (`concurrency`, `rateLimit`) and says so in its `degraded` store event.
   * See docs/fleet.md, "A budget for the whole fleet", to choose the figures.
   * @example rateLimit: { limit: 40, interval: 1000 } // at most 40 token requests per second, fleet-wide
   */
  rateLimit?: RateLimitOptions;
}

/** The fleet-wide budget on the token endpoint; see {@link RedisTokenStoreOptions.rateLimit}. */
export interface RateLimitOptions {
  /**
   * At most this many token requests in any `interval`, across the fleet. At least 2: a renewal
   * that spends a refresh token counts as two requests, the refresh and the client-credentials
   * request that follows when the refresh token is refused.
   */
  limit: number;
  /** The window, in ms. */
  interval: number;
  /**
   * How many requests of each interval only callers who wait for a token may use: background
   * refreshes stop at `limit - reserve`. From 0 to `limit - 2`.
   * @default Math.min(Math.ceil(limit / 4), limit - 2)
   */
  reserve?: number;
}

/** The validated rate limit. */
export interface RateLimitSettings {
  limit: number;
  intervalMs: number;
  reserve: number;
}

/** The validated settings a store runs with. */
export interface RedisStoreSettings {
  redis: Redis;
  clientId: string | undefined;
  keyPrefix: string;
  /** As a KeyObject, which never prints its bytes. */
  encryptionKey: KeyObject | undefined;
  maxScopes: number;
  lockTtlMs: number;
  commandTimeoutMs: number;
  outageTimeoutMs: number;
  pollIntervalMs: number;
  rateLimit: RateLimitSettings | undefined;
}

const KNOWN_OPTIONS = [
  'redis',
  'clientId',
  'keyPrefix',
  'encryptionKey',
  'maxScopes',
  'lockTtl',
  'commandTimeout',
  'outageTimeout',
  'pollInterval',
  'rateLimit',
] as const;

const RATE_LIMIT_OPTIONS = ['limit', 'interval', 'reserve'] as const;
/** Above this, `rateLimit.limit` is no limit at all, and the budget's sorted set would grow large. */
const MAX_RATE_LIMIT = 100_000;
/** The longest `rateLimit.interval`, in ms: an hour. */
const MAX_RATE_INTERVAL_MS = 3_600_000;

function resolveRateLimit(value: unknown): RateLimitSettings | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigurationError('rateLimit', `Expected \`rateLimit\` to be an object { limit, interval } or undefined, got ${describe(value)}`);
  }
  const o = value as Record<string, unknown>;
  rejectUnknownOptions('rateLimit', o, RATE_LIMIT_OPTIONS);
  const limit = requireNumber('rateLimit.limit', o.limit, { min: 2, max: MAX_RATE_LIMIT, integer: true });
  const intervalMs = requireNumber('rateLimit.interval', o.interval, { min: 1, max: MAX_RATE_INTERVAL_MS, integer: true });
  const reserve = requireNumber('rateLimit.reserve', orDefault(o.reserve, Math.min(Math.ceil(limit / 4), limit - 2)), {
    min: 0,
    max: limit - 2,
    integer: true,
  });
  return { limit, intervalMs, reserve };
}

/** What the store calls on the client; checked by shape, so that ioredis is never loaded here. */
const CLIENT_METHODS = ['get', 'set', 'eval', 'duplicate'] as const;

function requireClient(value: unknown): Redis {
  const client = value as Record<string, unknown> | null;
  const ok =
    typeof client === 'object' &&
    client !== null &&
    CLIENT_METHODS.every((m) => typeof client[m] === 'function') &&
    typeof client.status === 'string';
  if (!ok) {
    throw new ConfigurationError(
      'redis',
      `Expected \`redis\` to be an ioredis client (with ${CLIENT_METHODS.join(', ')} and status), got ${describe(value)}`,
    );
  }
  // A Cluster has the same command methods, and its duplicate() ignores what it is given here:
  // inside the store, both are driven through the commands of `Redis`.
  return value as Redis;
}

/** Validates every option and applies the defaults. Throws {@link ConfigurationError}. */
export function resolveRedisStoreOptions(options: RedisTokenStoreOptions): RedisStoreSettings {
  const o = requireOptionsObject('RedisTokenStore options', options);
  rejectUnknownOptions('RedisTokenStore options', o, KNOWN_OPTIONS);
  const redis = requireClient(o.redis);
  const clientId = o.clientId === undefined ? undefined : requireString('clientId', o.clientId);
  const keyPrefix = requireString('keyPrefix', orDefault(o.keyPrefix, DEFAULT_KEY_PREFIX));
  if (keyPrefix.length > 200) {
    throw new ConfigurationError('keyPrefix', `Expected \`keyPrefix\` to be at most 200 characters, got ${keyPrefix.length}`);
  }
  const lockTtlMs = requireNumber('lockTtl', orDefault(o.lockTtl, DEFAULT_LOCK_TTL_MS), {
    min: 100,
    max: 600_000,
    integer: true,
  });
  const pollIntervalMs = requireNumber('pollInterval', orDefault(o.pollInterval, DEFAULT_POLL_INTERVAL_MS), {
    min: 5,
    max: 60_000,
    integer: true,
  });
  if (pollIntervalMs >= lockTtlMs) {
    throw new ConfigurationError(
      'pollInterval',
      `Expected \`pollInterval\` (${pollIntervalMs} ms) to be less than \`lockTtl\` (${lockTtlMs} ms), so that a waiting process looks at Redis before a dead holder's lock expires`,
    );
  }
  const commandTimeoutMs = requireNumber('commandTimeout', orDefault(o.commandTimeout, DEFAULT_COMMAND_TIMEOUT_MS), {
    min: 1,
    max: 60_000,
    integer: true,
  });
  const outageTimeoutMs = requireNumber('outageTimeout', orDefault(o.outageTimeout, Math.max(DEFAULT_OUTAGE_TIMEOUT_MS, commandTimeoutMs)), {
    min: 1,
    max: 600_000,
    integer: true,
  });
  if (outageTimeoutMs < commandTimeoutMs) {
    throw new ConfigurationError(
      'outageTimeout',
      `Expected \`outageTimeout\` (${outageTimeoutMs} ms) to be at least \`commandTimeout\` (${commandTimeoutMs} ms): a command is only waited for past \`commandTimeout\`, up to \`outageTimeout\``,
    );
  }
  return {
    redis,
    clientId,
    keyPrefix,
    encryptionKey: o.encryptionKey === undefined ? undefined : parseEncryptionKey(o.encryptionKey),
    maxScopes: requireNumber('maxScopes', orDefault(o.maxScopes, DEFAULT_MAX_SCOPES), {
      min: 1,
      max: 10_000_000,
      integer: true,
    }),
    lockTtlMs,
    commandTimeoutMs,
    outageTimeoutMs,
    pollIntervalMs,
    rateLimit: resolveRateLimit(o.rateLimit),
  };
}
