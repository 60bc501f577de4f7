/**
 * This process's own share of the fleet's budget (`rateLimit`), for when Redis cannot count: while
 * Redis is down each process keeps to `limit / N` requests per `interval`, N being the number of
 * live processes that Redis last reported (their heartbeats, see fleet-budget.ts), so that the
 * fleet as a whole keeps to `limit`.
 *
 * Two moments need more than the share. When Redis is lost, the fleet may already have spent the
 * whole window through Redis: the first request sent alone waits until `interval` has passed since
 * the loss was noticed. When Redis is back, it does not know what was sent alone: for `interval`
 * after its last request sent alone, the process keeps to its share as well as to Redis's budget.
 * Pure bookkeeping on an injected clock: it never waits itself, it says how long to wait.
 */

/** While one of this process's requests is still out, how soon to look again, in ms. */
const IN_FLIGHT_LOOK_MS = 25;

/** One request of this process: its member in the budget's sorted set, and whether Redis holds it. */
interface Sent {
  at: number;
  readonly member: string;
  known: boolean;
}

/** The validated budget this share is taken from. */
export interface ShareSettings {
  limit: number;
  intervalMs: number;
  /** How long a reported fleet size is remembered: the size used is the largest reported within it. */
  sizeMemoryMs: number;
}

export class FleetShare {
  readonly #limit: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  /**
   * The fleet's sizes as Redis reported them lately (within `sizeMemoryMs` of the latest report):
   * a Redis that restarted empty under-reports the fleet until every process has beaten again.
   */
  #sizes: { at: number; size: number }[] = [];
  readonly #sizeMemoryMs: number;
  /**
   * This process's recent requests, one entry per request: each holds its place from when it was
   * sent until `interval` after its answer came back (`at`; +Infinity while it is out), as a slot of
   * the budget in Redis does, so that requests delayed on their way never bunch up at the endpoint.
   */
  #sent: Sent[] = [];
  /** Whether Redis may have lost what it held of this process's requests (it was down since). */
  #lost = false;
  /** Since when Redis has not counted for this process; undefined while it does. */
  #lostAt: number | undefined;
  /** When this process last sent a request that Redis did not count. */
  #lastAloneAt = Number.NEGATIVE_INFINITY;

  constructor({ limit, intervalMs, sizeMemoryMs }: ShareSettings, now: () => number = Date.now) {
    this.#limit = limit;
    this.#intervalMs = intervalMs;
    this.#sizeMemoryMs = sizeMemoryMs;
    this.#now = now;
  }

  /** The largest fleet size reported lately, if any was ever reported. */
  get fleetSize(): number | undefined {
    return this.#sizes.length === 0 ? undefined : Math.max(...this.#sizes.map((s) => s.size));
  }

  /**
   * Requests per `interval` this process may send without Redis: `limit / N`, rounded down, at
   * least 1. Before Redis ever reported the fleet's size, 1: nothing is known of the others.
   */
  get share(): number {
    const size = this.fleetSize;
    if (size === undefined) return 1;
    return Math.max(1, Math.floor(this.#limit / size));
  }

  /** Redis reported `size` live processes (this one among them). */
  learnSize(size: number): void {
    if (!Number.isInteger(size) || size < 1) return;
    const now = this.#now();
    this.#sizes = this.#sizes.filter((s) => s.at > now - this.#sizeMemoryMs);
    this.#sizes.push({ at: now, size });
  }

  /** Redis counted these requests (`members`) for this process: they are sent now, and Redis counts again. */
  counted(members: readonly string[]): void {
    this.#lostAt = undefined;
    const now = this.#now();
    this.#prune(now);
    for (const member of members) this.#sent.push({ at: now, member, known: true });
  }

  /** Redis was down since it last counted: it may have lost every request it held. */
  redisLost(): void {
    this.#lost = true;
  }

  /**
   * The requests of this process within `interval` that Redis may not hold, as (member, ms until
   * its place frees) pairs: those sent alone, and after Redis was down, all of them. A request
   * still out is held for two intervals. After Redis was down, also the other processes' shares,
   * as places named alike in every process (so that they count once), held for two intervals: they
   * may still be sending alone, unknown to Redis. Call {@link pushed} once Redis took them.
   */
  unknown(): string[] {
    const now = this.#now();
    this.#prune(now);
    const pairs: string[] = [];
    if (this.#lost) {
      const others = ((this.fleetSize ?? 1) - 1) * this.share;
      for (let i = 1; i <= Math.min(others, this.#limit); i++) pairs.push(`presumed:${i}`, String(2 * this.#intervalMs));
    }
    for (const e of this.#sent) {
      if (e.known && !this.#lost) continue;
      const ms = Number.isFinite(e.at) ? e.at + this.#intervalMs - now : 2 * this.#intervalMs;
      pairs.push(e.member, String(Math.max(1, Math.ceil(ms))));
    }
    return pairs;
  }

  /** Redis now holds the requests that {@link unknown} listed (`pairs`, as it returned them). */
  pushed(pairs: readonly string[]): void {
    this.#lost = false;
    const members = new Set(pairs.filter((_, i) => i % 2 === 0));
    for (const e of this.#sent) if (members.has(e.member)) e.known = true;
  }

  /** Whether Redis's grants must also fit the share: a request went out uncounted within `interval`. */
  get recentlyAlone(): boolean {
    return this.#now() - this.#lastAloneAt < this.#intervalMs;
  }

  /**
   * How long until `cost` more requests fit the share (0: now; with a request still out, a guess:
   * look again then). With `alone`, Redis cannot count: this starts the spell without it, whose
   * first request waits `interval` from its start.
   */
  waitFor(cost: number, alone: boolean): number {
    const now = this.#now();
    if (alone) this.#lostAt ??= now;
    const spellWait = alone ? this.#lostAt! + this.#intervalMs - now : 0;
    this.#prune(now);
    // The oldest places free first: `cost` more fit once enough of them are past `interval`.
    const over = this.#sent.length + Math.min(cost, this.share) - this.share;
    let shareWait = 0;
    if (over > 0) {
      const frees = this.#sent.map((e) => e.at).sort((a, b) => a - b)[over - 1]! + this.#intervalMs - now;
      shareWait = Number.isFinite(frees) ? frees : IN_FLIGHT_LOOK_MS;
    }
    return Math.max(0, spellWait, shareWait);
  }

  /**
   * `cost` requests go out now, uncounted by Redis, as `members` of the budget's sorted set once it
   * can hold them; call the returned function once they are answered.
   */
  sentAlone(members: readonly string[]): () => void {
    this.#lastAloneAt = this.#now();
    const entries: Sent[] = members.map((member) => ({ at: Number.POSITIVE_INFINITY, member, known: false }));
    this.#prune(this.#now());
    this.#sent.push(...entries);
    return () => {
      const now = this.#now();
      this.#lastAloneAt = now;
      for (const e of entries) e.at = now;
    };
  }

  #prune(now: number): void {
    if (this.#sent.some((e) => e.at <= now - this.#intervalMs)) this.#sent = this.#sent.filter((e) => e.at > now - this.#intervalMs);
  }
}
