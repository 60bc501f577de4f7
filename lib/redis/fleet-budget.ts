/**
 * The fleet's budget on the token endpoint (`rateLimit`): at most `limit` requests in any
 * `interval` ms, across every process of one namespace. Kept in one sorted set in Redis and changed
 * only by scripts that read Redis's clock, so that processes whose clocks disagree still count in
 * one window.
 *
 * A request holds its slot from the moment it is granted until `interval` after it is settled
 * (its answer came back, so it reached the endpoint by then). Counting from the grant alone would
 * let a request granted early but delayed on its way (a busy event loop, a slow network) land in
 * the same window at the endpoint as one granted a full interval later. Until it is settled, a
 * slot is held on a lease: a process that dies mid-request frees its slots after
 * `interval + lease`.
 *
 * While Redis answers, each process also beats in the fleet's roll call, so that it knows how many
 * processes share the budget: when Redis cannot count, it keeps to its share (fleet-share.ts).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError } from '../shared/errors.js';
import type { Token } from '../endpoint/token.js';
import { FleetShare } from './fleet-share.js';
import type { RateLimitSettings } from './options.js';
import { UNAVAILABLE, type RedisLink, type Unavailable } from './redis-link.js';
import { HEARTBEAT, SETTLE_BUDGET, TAKE_BUDGET } from './scripts.js';

/** How many attempts of one kind a process has at Redis at once; see {@link FleetBudget.take}. */
const MAX_ATTEMPTS_IN_FLIGHT = 8;

/**
 * When Redis's wait counts a slot whose request is still out (it may be settled, and so free,
 * sooner), attempts of that kind ask Redis again after at most this long, in ms.
 */
const UNSETTLED_RECHECK_MS = 100;

/** How often a process beats in the roll call, in ms. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/**
 * How long a beat counts the process as live, in ms: a few missed beats (a busy event loop) keep it
 * counted; a process that died stops counting after this. Counting a dead one only makes the
 * others' shares smaller.
 */
export const HEARTBEAT_TTL_MS = 5_000;

/**
 * An unsettled request holds its slot for at least this long past `interval` (the store's `lockTtl`
 * when longer): far more than a granted request takes to reach the endpoint, even on a busy machine.
 */
const MIN_LEASE_MS = 5_000;

/**
 * How many token requests a renewal from `base` may make: with a refresh token, two (the refresh,
 * and the client-credentials request the manager falls back to when the refresh token is refused);
 * without, one.
 */
export function costOf(base: Token | undefined): number {
  return base?.refreshToken === undefined ? 1 : 2;
}

/** Requests taken from the budget, to settle once they are answered, or to give back unused. */
export interface BudgetGrant {
  /** How many requests it covers. */
  readonly cost: number;
  /** Their members in the sorted set. */
  readonly members: readonly string[];
}

/** The answer of one attempt: the grant, or how long until enough slots free, as far as Redis knows. */
export type BudgetAttempt = { grant: BudgetGrant } | { waitMs: number };

export class FleetBudget {
  readonly #link: RedisLink;
  readonly #settings: RateLimitSettings;
  readonly #leaseMs: number;
  readonly #share: FleetShare;
  /** This process's id in the roll call. */
  readonly #id = randomBytes(12).toString('hex');
  /** Invariant: set from the first beat until close(); beats every {@link HEARTBEAT_INTERVAL_MS}. */
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;
  /** The link's outage count when Redis last counted for this process. */
  #outagesSeen: number;
  /** Per kind of attempt (see {@link take}): how many are at Redis, and the ones waiting for a turn. */
  readonly #gates = new Map<string, { running: number; waiting: (() => void)[] }>();
  /** Per kind of attempt: until when Redis said no attempt of that kind fits. */
  readonly #notBefore = new Map<string, number>();

  /** `lockTtlMs`: the store's lock lifetime, which the lease of an unsettled request is at least. */
  constructor(link: RedisLink, settings: RateLimitSettings, lockTtlMs: number, now: () => number = Date.now) {
    this.#link = link;
    this.#settings = settings;
    this.#leaseMs = Math.max(lockTtlMs, MIN_LEASE_MS);
    this.#share = new FleetShare({ ...settings, sizeMemoryMs: HEARTBEAT_TTL_MS }, now);
    this.#outagesSeen = link.outages;
  }

  /** How many processes share the budget, as Redis last said; undefined until it has. */
  get fleetSize(): number | undefined {
    return this.#share.fleetSize;
  }

  /**
   * Joins the roll call at `key` (idempotent): a beat now, then every {@link HEARTBEAT_INTERVAL_MS}
   * until close(). The timer never keeps the process alive.
   */
  join(key: string): void {
    if (this.#heartbeat !== undefined || this.#closed) return;
    const beat = () => {
      void this.#link
        .run('EVAL heartbeat', (redis) => redis.eval(HEARTBEAT, 1, key, this.#id, String(HEARTBEAT_TTL_MS)))
        .then((size) => {
          if (size !== UNAVAILABLE) this.#share.learnSize(Number(size));
        });
    };
    this.#heartbeat = setInterval(beat, HEARTBEAT_INTERVAL_MS);
    this.#heartbeat.unref();
    beat();
  }

  /** Stops beating: the process leaves the roll call within {@link HEARTBEAT_TTL_MS}. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
  }

  /**
   * Waits until `cost` requests fit this process's share of the budget, for a renewal that goes
   * ahead without Redis, and counts them as sent: call the returned function once they are
   * answered. Rejects with AbortError when `signal` aborts.
   */
  async takeAlone(cost: number, signal: AbortSignal | undefined): Promise<() => void> {
    for (let wait = this.#share.waitFor(cost, true); wait > 0; wait = this.#share.waitFor(cost, true)) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      try {
        await sleep(wait, undefined, signal === undefined ? {} : { signal });
      } catch {
        throw new AbortError(signal?.reason);
      }
    }
    const prefix = randomBytes(12).toString('hex');
    return this.#share.sentAlone(Array.from({ length: cost }, (_, i) => `${prefix}:${i + 1}`));
  }

  /** The window, in ms. */
  get intervalMs(): number {
    return this.#settings.intervalMs;
  }

  /**
   * One attempt at `cost` requests from the budget at `key`. A background refresh may only fill the
   * window up to `limit - reserve`; a renewal a caller waits for may fill it up to `limit`.
   *
   * At most {@link MAX_ATTEMPTS_IN_FLIGHT} attempts of one kind (background, or for a caller; and
   * of one cost) are at Redis at once, and once Redis said "no room for another N ms", the others
   * of that kind get the same answer without asking: in a cold start, thousands of renewals of a
   * process may wait for budget at once, and they would otherwise all ask Redis again whenever a
   * slot frees. A few at once, not one: on a slow Redis, one at a time would bound the process to
   * one grant per round trip.
   */
  async take(key: string, cost: number, background: boolean): Promise<BudgetAttempt | Unavailable> {
    const kind = `${background ? 'background' : 'caller'}:${cost}:${key}`;
    const gate = this.#gates.get(kind) ?? { running: 0, waiting: [] };
    this.#gates.set(kind, gate);
    if (gate.running >= MAX_ATTEMPTS_IN_FLIGHT) await new Promise<void>((resolve) => gate.waiting.push(resolve));
    else gate.running++;
    try {
      const notBefore = this.#notBefore.get(kind) ?? 0;
      const now = Date.now();
      if (now < notBefore) return { waitMs: notBefore - now };
      const attempt = await this.#takeOnce(key, cost, background);
      // A wait longer than `interval` counts a slot whose request is still out: it may free sooner.
      if (attempt !== UNAVAILABLE && 'waitMs' in attempt) {
        const exact = attempt.waitMs <= this.#settings.intervalMs;
        this.#notBefore.set(kind, Date.now() + (exact ? attempt.waitMs : Math.min(attempt.waitMs, UNSETTLED_RECHECK_MS)));
      } else this.#notBefore.delete(kind);
      return attempt;
    } finally {
      // The turn passes to the next waiting attempt, if any; else the gate has one fewer running.
      const next = gate.waiting.shift();
      if (next !== undefined) next();
      else if (--gate.running === 0) this.#gates.delete(kind);
    }
  }

  async #takeOnce(key: string, cost: number, background: boolean): Promise<BudgetAttempt | Unavailable> {
    const { limit, reserve, intervalMs } = this.#settings;
    // Requests sent alone lately are unknown to Redis: until they are past, keep to the share too.
    if (this.#share.recentlyAlone) {
      const waitMs = this.#share.waitFor(cost, false);
      if (waitMs > 0) return { waitMs };
    }
    const cap = background ? limit - reserve : limit;
    const prefix = randomBytes(12).toString('hex');
    // What Redis may not hold of this process's recent requests goes with the attempt.
    if (this.#link.outages !== this.#outagesSeen) this.#share.redisLost();
    const outages = this.#link.outages;
    const unknown = this.#share.unknown();
    const reply = await this.#link.run('EVAL budget', (redis) =>
      redis.eval(TAKE_BUDGET, 1, key, String(cap), String(cost), String(intervalMs), String(this.#leaseMs), prefix, ...unknown),
    );
    if (reply === UNAVAILABLE) return UNAVAILABLE;
    this.#outagesSeen = outages;
    this.#share.pushed(unknown);
    const [granted, waitMs] = reply as [number, number];
    if (granted !== 1) return { waitMs: Math.max(1, Number(waitMs)) };
    const members = Array.from({ length: cost }, (_, i) => `${prefix}:${i + 1}`);
    this.#share.counted(members);
    return { grant: { cost, members } };
  }

  /** The requests of `grant` were answered: their slots free `interval` from now. Always sent. */
  async settle(key: string, grant: BudgetGrant): Promise<void> {
    await this.#link.run('EVAL settle', (redis) => redis.eval(SETTLE_BUDGET, 1, key, String(this.#settings.intervalMs), ...grant.members), {
      always: true,
    });
  }

  /** The requests of `grant` were never sent: their slots free now. Always sent. */
  async giveBack(key: string, grant: BudgetGrant): Promise<void> {
    this.#notBefore.clear(); // room again: the next attempt of each kind asks Redis
    await this.#link.run('ZREM budget', (redis) => redis.zrem(key, ...grant.members), { always: true });
  }
}
