/**
 * Builders for the RedisTokenStore tests run in one jest process: stores that stand for separate
 * processes (each with its own ioredis client), tokens, and a scripted `Renewal` that records
 * what the store asked of it.
 */
import type { Redis } from 'ioredis';
import { RedisTokenStore } from '../../lib/redis/index.js';
import type { RedisTokenStoreOptions } from '../../lib/redis/options.js';
import { createToken, type Token } from '../../lib/endpoint/token.js';
import type { Renewal, StoreEvent } from '../../lib/store/token-store.js';
import type { RedisClient } from './redis-client.js';
import type { RedisTarget } from './redis.js';

export const TEST_CLIENT_ID = 'fleet-test-client';

/** A store on its own connection, as another process would have, and the events it reported. */
export interface StoreUnderTest {
  /** The raw client (not spied). */
  redis: RedisClient;
  store: RedisTokenStore;
  events: StoreEvent[];
  /** The commands the store sent, as answered. */
  seen: SeenCommand[];
  /** Resolves on the first command the store sent (or sends) that matches. */
  next(match: (c: SeenCommand) => boolean, timeoutMs?: number): Promise<SeenCommand>;
  close(): Promise<void>;
}

export function openStore(target: RedisTarget, options: Partial<RedisTokenStoreOptions> & { keyPrefix: string }): StoreUnderTest {
  const redis = target.connect();
  const spy = spyOn(redis);
  const store = new RedisTokenStore({ redis: spy.client, clientId: TEST_CLIENT_ID, ...options });
  const events: StoreEvent[] = [];
  store.onStoreEvent((event) => events.push(event));
  return {
    redis,
    store,
    events,
    seen: spy.seen,
    next: spy.next,
    async close() {
      await store.close();
      redis.disconnect();
    },
  };
}

/** Whether `c` is a `SET ... NX` that found the lock taken. */
export const lockRefused = (c: SeenCommand) => c.name === 'set' && c.args.includes('NX') && c.reply === null;

let serial = 0;

/** A token for `scope` with a refresh token, issued now (or `ageMs` ago), living `seconds`. */
export function makeToken(scope: string | undefined, { ageMs = 0, seconds = 3600, label }: { ageMs?: number; seconds?: number; label?: string } = {}): Token {
  const n = label ?? `${++serial}`;
  const issuedAt = Date.now() - ageMs;
  return createToken({
    accessToken: `access-${n}-${'x'.repeat(24)}`,
    tokenType: 'bearer',
    expiresIn: seconds,
    issuedAt,
    expiresAt: issuedAt + seconds * 1000,
    refreshToken: `refresh-${n}-${'y'.repeat(24)}`,
    ...(scope === undefined ? {} : { scope }),
  });
}

/** A `Renewal` whose fetch is scripted, and which records every base it was given. */
export interface ScriptedRenewal extends Renewal {
  readonly bases: (Token | undefined)[];
}

export function scriptedRenewal({
  local,
  fetch,
  isFresh = (token) => Date.now() < token.expiresAt - 60_000,
  signal,
}: {
  local?: Token;
  fetch: (base: Token | undefined) => Promise<Token>;
  isFresh?: (token: Token) => boolean;
  signal?: AbortSignal;
}): ScriptedRenewal {
  const bases: (Token | undefined)[] = [];
  return {
    bases,
    local,
    isFresh,
    ...(signal === undefined ? {} : { signal }),
    fetch(base) {
      bases.push(base);
      return fetch(base);
    },
  };
}

/** A promise and the functions that settle it, for holding a fetch open. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One command a {@link spyOn}'d client answered. */
export interface SeenCommand {
  name: string;
  args: unknown[];
  reply?: unknown;
  error?: unknown;
}

/**
 * Wraps an ioredis client so that a test can wait for a command the store sent (say, its failed
 * `SET NX` on a held lock) instead of sleeping. The store only needs the client's shape.
 */
export function spyOn(redis: RedisClient): { client: Redis; seen: SeenCommand[]; next(match: (c: SeenCommand) => boolean, timeoutMs?: number): Promise<SeenCommand> } {
  const seen: SeenCommand[] = [];
  const watchers = new Set<{ match: (c: SeenCommand) => boolean; resolve: (c: SeenCommand) => void }>();
  const record = (command: SeenCommand) => {
    seen.push(command);
    for (const w of [...watchers]) {
      if (w.match(command)) {
        watchers.delete(w);
        w.resolve(command);
      }
    }
  };
  const spied = new Set(['get', 'set', 'eval']);
  // The store drives a cluster through the same command methods as one server.
  const client = new Proxy(redis as Redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (typeof property !== 'string' || !spied.has(property)) return method;
      return (...args: unknown[]) => {
        const pending = method(...args) as Promise<unknown>;
        pending.then(
          (reply) => record({ name: property, args, reply }),
          (error: unknown) => record({ name: property, args, error }),
        );
        return pending;
      };
    },
  });
  return {
    client,
    seen,
    next(match, timeoutMs = 10_000) {
      const already = seen.find(match);
      if (already !== undefined) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const watcher = { match, resolve: (c: SeenCommand) => (clearTimeout(timer), resolve(c)) };
        const timer = setTimeout(() => {
          watchers.delete(watcher);
          reject(new Error(`no matching Redis command within ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.add(watcher);
      });
    },
  };
}
