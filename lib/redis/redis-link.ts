/**
 * Every Redis command of the store goes through here: bounded in time, never sent to a connection
 * that is down, and turned into `degraded` / `recovered` news instead of an error.
 *
 * ioredis queues commands while it reconnects (`enableOfflineQueue`), and would hold a caller for
 * as long as the outage lasts: so a command is only sent while the client is `ready` (or still
 * making its first connection), and every command races its own timer.
 *
 * A slow answer on a live connection is not an outage: taking it for one would make every process
 * renew alone, costing the endpoint N times the requests and the fleet its budget. So while Redis
 * is healthy, a command past `commandTimeout` is still waited for, as long as the connection stays
 * up, until `outageTimeout`; only then is Redis taken for down. Once it is (`degraded`), a caller
 * waits `commandTimeout` at most for its probe, and any answer that comes late ends the outage.
 */
import type { Redis } from 'ioredis';
import type { StoreEvent } from '../store/token-store.js';

/** What {@link RedisLink.run} returns when Redis could not be used: the store then works alone. */
export const UNAVAILABLE: unique symbol = Symbol('redis unavailable');
export type Unavailable = typeof UNAVAILABLE;

/**
 * After Redis was too slow or failed while connected, the next command is tried no sooner than
 * this: a slow Redis would otherwise cost every renewal a full command timeout.
 */
export const PROBE_INTERVAL_MS = 1_000;

/** States in which ioredis makes its first connection: commands may wait for it (bounded). */
const CONNECTING = new Set(['wait', 'connecting', 'connect']);

/** A short, secret-free reason: an error code, a Redis error prefix (`READONLY`), or a name. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return 'error';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  const prefix = /^([A-Z][A-Z_]{1,30})\b/.exec(error.message);
  if (prefix?.[1] !== undefined) return prefix[1];
  if (/connection is closed/i.test(error.message)) return 'connection closed';
  return error.name;
}

/** Options of {@link RedisLink}. */
export interface RedisLinkOptions {
  /** How long a command may take before it is late; while degraded, the longest wait for one. */
  commandTimeoutMs: number;
  /**
   * While healthy, how long a late command on a live connection is still waited for, from when it
   * was sent. Defaults to `commandTimeoutMs` (no grace for a late command).
   */
  outageTimeoutMs?: number;
  /** Receives `degraded` and `recovered`. */
  report: (event: StoreEvent) => void;
  now?: () => number;
}

/** How {@link RedisLink.run} treats one command. */
export interface RunOptions<T> {
  /**
   * Send it even while a recent failure holds other commands back, whatever the connection's
   * state, and after close: for clean-up that must reach Redis (a lock release), since nothing else
   * would undo what it undoes. The caller still waits no longer than the command timeout.
   */
  always?: boolean;
  /**
   * Called with the answer when the command succeeds after the caller gave up on it (Redis ran it
   * late): for a command whose effect must be undone if nobody is left to use it (a lock taken).
   */
  onLate?: (value: T) => void;
}

/** One ioredis client, seen through timeouts and a degraded flag. */
export class RedisLink {
  readonly #redis: Redis;
  readonly #timeoutMs: number;
  readonly #outageMs: number;
  readonly #report: (event: StoreEvent) => void;
  readonly #now: () => number;
  /** Invariant: true from a failed command until the next successful one; each change is reported once. */
  #degraded = false;
  #outages = 0;
  /** While degraded on a connected client, no command is sent before this instant. */
  #probeAt = 0;
  #closed = false;

  constructor(redis: Redis, { commandTimeoutMs, outageTimeoutMs = commandTimeoutMs, report, now = Date.now }: RedisLinkOptions) {
    this.#redis = redis;
    this.#timeoutMs = commandTimeoutMs;
    this.#outageMs = Math.max(commandTimeoutMs, outageTimeoutMs);
    this.#report = report;
    this.#now = now;
  }

  /** Whether the store works alone, for now. */
  get degraded(): boolean {
    return this.#degraded;
  }

  /** How many times Redis was taken for down so far: what Redis held may have been lost since. */
  get outages(): number {
    return this.#outages;
  }

  /** Stops sending commands (after close). */
  close(): void {
    this.#closed = true;
  }

  /**
   * Runs `command` (named `label` in reports) on Redis, or returns {@link UNAVAILABLE} at once when
   * the client is down, when a recent failure holds further probes back, or after the store
   * closed (unless `always`); or when the command fails or outlives the timeout.
   */
  async run<T>(label: string, command: (redis: Redis) => Promise<T>, { always = false, onLate }: RunOptions<T> = {}): Promise<T | Unavailable> {
    if (this.#closed && !always) return UNAVAILABLE;
    const status = this.#redis.status;
    if (!always && status !== 'ready' && (this.#degraded || !CONNECTING.has(status))) {
      this.#fail(`connection ${status}`);
      return UNAVAILABLE;
    }
    const probing = this.#degraded;
    if (probing && !always) {
      const now = this.#now();
      if (now < this.#probeAt) return UNAVAILABLE;
      this.#probeAt = now + PROBE_INTERVAL_MS; // one probe at a time
    }
    let pending: Promise<T>;
    try {
      pending = command(this.#redis);
    } catch (error) {
      this.#fail(`${label}: ${reasonOf(error)}`);
      return UNAVAILABLE;
    }
    // A command given up on may still settle later (ioredis keeps it queued): never unhandled.
    pending.catch(() => {});
    const boundMs = probing ? this.#timeoutMs : this.#outageMs;
    const outcome = await this.#bounded(pending, boundMs);
    if (outcome.ok) {
      this.#recover(`${label} succeeded`);
      return outcome.value;
    }
    if (outcome.timedOut) {
      // Given up on, but Redis may still run it: whoever must undo its effect hears of it, and an
      // answer that comes late shows that Redis is back (only slow).
      if (onLate !== undefined) pending.then(onLate, () => {});
      pending.then(() => this.#recover(`${label} answered late`), () => {});
    }
    this.#fail(
      outcome.timedOut
        ? outcome.down === undefined
          ? `${label}: no answer within ${boundMs} ms`
          : `${label}: connection ${outcome.down}`
        : `${label}: ${reasonOf(outcome.error)}`,
    );
    return UNAVAILABLE;
  }

  #recover(label: string): void {
    if (!this.#degraded || this.#closed) return;
    this.#degraded = false;
    this.#report({ kind: 'recovered', detail: label });
  }

  /**
   * The outcome of `pending`, or a time-out after `boundMs`. Past `commandTimeout`, and at each
   * further `commandTimeout`, the connection is looked at: one that went down ends the wait then.
   */
  #bounded<T>(
    pending: Promise<T>,
    boundMs: number,
  ): Promise<{ ok: true; value: T } | { ok: false; timedOut: boolean; down?: string; error?: unknown }> {
    return new Promise((resolve) => {
      let settled = false;
      let left = boundMs;
      let timer: NodeJS.Timeout;
      const tick = (ms: number) => {
        left -= ms;
        // Timers run before I/O in each turn of the event loop: after a long pause of the loop,
        // let an answer that has already arrived be read first, so a busy process is not mistaken
        // for a slow Redis.
        setImmediate(() => {
          if (settled) return;
          const status = this.#redis.status;
          const down = status !== 'ready' && !CONNECTING.has(status) ? status : undefined;
          if (left > 0 && down === undefined) {
            const next = Math.min(this.#timeoutMs, left);
            timer = setTimeout(() => tick(next), next);
            return;
          }
          settled = true;
          resolve({ ok: false, timedOut: true, ...(down === undefined ? {} : { down }) });
        });
      };
      const first = Math.min(this.#timeoutMs, boundMs);
      timer = setTimeout(() => tick(first), first);
      pending.then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ ok: true, value });
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ ok: false, timedOut: false, error });
        },
      );
    });
  }

  #fail(detail: string): void {
    if (this.#closed) return;
    // Connection lost: try again as soon as the client is ready again. Still connected, but slow or
    // failing: hold the next probe back, so that callers do not each wait for a timeout.
    this.#probeAt = this.#redis.status === 'ready' ? this.#now() + PROBE_INTERVAL_MS : 0;
    if (this.#degraded) return;
    this.#degraded = true;
    this.#outages++;
    this.#report({ kind: 'degraded', detail });
  }
}
