/**
 * The protocol of one renewal across the fleet (docs/fleet.md, "The protocol"): read the shared
 * entry; else take the fleet's budget (with `rateLimit`) and the scope's lock; as the holder, read
 * again, fetch, write, release; as a waiter, wait for the holder's announcement. Redis trouble never
 * fails a renewal: the process then renews alone.
 */
import { whenAborted } from '../shared/abort.js';
import { AbortError } from '../shared/errors.js';
import type { Token } from '../endpoint/token.js';
import type { Renewal, RenewalResult } from '../store/token-store.js';
import { costOf, type BudgetGrant, type FleetBudget } from './fleet-budget.js';
import type { KeyNames, ScopeKeys } from './key-names.js';
import { UNAVAILABLE, type Unavailable } from './redis-link.js';
import type { RenewalLock } from './renewal-lock.js';
import type { SharedEntries } from './shared-entries.js';
import type { WriteSignal } from './write-signal.js';

/**
 * A process waiting for another one's renewal gives up coordinating after this many lock
 * lifetimes: enough to see a dead holder's lock expire and take over; past it, the holder is alive
 * but slow, and the waiter gets its own token with client credentials (spending no shared refresh
 * token), so that a caller's wait stays bounded.
 */
const MAX_WAIT_LOCK_TTLS = 2;

/**
 * While a process waits for another one's lock, the holder's announcement wakes it at once; the
 * poll is only a fallback (a lost message, a holder that died). A wait that is sure to hear the
 * announcement (see WriteWait.hearFromNow) polls after this long (or a quarter of `lockTtl`, if
 * shorter); any other starts at `pollInterval` and doubles up to it: a cold start in which each
 * process waits for thousands of others' scopes at once must not poll Redis thousands of times
 * every `pollInterval`.
 */
const MAX_LOCK_POLL_MS = 1_000;

/** What the protocol works with; owned by the store. */
export interface FleetRenewalParts {
  entries: SharedEntries;
  lock: RenewalLock;
  budget: FleetBudget | undefined;
  lockTtlMs: number;
  pollIntervalMs: number;
  /** Marks a token as read from Redis or written there: the store's save() has nothing to share for it. */
  shared(token: Token): void;
}

/** The namespace of one renewal: its key names, and the signal of writes to them. */
interface Scope {
  names: KeyNames;
  writes: WriteSignal;
  keys: ScopeKeys;
}

export class FleetRenewal {
  readonly #p: FleetRenewalParts;

  constructor(parts: FleetRenewalParts) {
    this.#p = parts;
  }

  /** One renewal of `key` for the fleet. Never rejects because of Redis. */
  async renew(names: KeyNames, writes: WriteSignal, key: string, renewal: Renewal): Promise<RenewalResult> {
    const scope: Scope = { names, writes, keys: names.of(key) };
    const { keys } = scope;
    const { entries, lock, budget } = this.#p;
    // A copy read from Redis is never the same object as the local token: compare the token itself,
    // so that the token the API just rejected is not taken back from Redis.
    const usable = (token: Token | undefined): token is Token =>
      token !== undefined && token.accessToken !== renewal.local?.accessToken && renewal.isFresh(token);
    const { signal } = renewal;
    /** Since when this process waits for another one's lock; a wait for budget starts it again. */
    let lockWaitSince: number | undefined;
    // Redis down: a background renewal (its token is still served) waits for it as long as it would
    // wait for a holder, since a failover takes seconds; one that a caller needs renews alone.
    const redisDeadline = Date.now() + this.#p.lockTtlMs * MAX_WAIT_LOCK_TTLS;
    const waitForRedis = () => renewal.background === true && Date.now() < redisDeadline;
    const { pollIntervalMs, lockTtlMs } = this.#p;
    const maxLockPollMs = Math.max(pollIntervalMs, Math.min(MAX_LOCK_POLL_MS, lockTtlMs / 4));
    /** How long this turn's wait lasts at most: longer in each turn spent waiting for a holder. */
    let pollMs = pollIntervalMs;
    for (;;) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      // Listen before reading, so that a write between the read and the wait wakes this one.
      const thisPollMs = pollMs;
      const wait = writes.next(keys.entry);
      pollMs = pollIntervalMs;
      const forget = whenAborted(signal, wait.cancel);
      /** Budget taken in this turn and not yet handed on: given back when the turn ends. */
      let grant: BudgetGrant | undefined;
      try {
        const read = await entries.read(keys);
        if (read === UNAVAILABLE && !waitForRedis()) return await this.#alone(renewal);
        if (read === UNAVAILABLE) {
          await wait.until(thisPollMs);
          continue;
        }
        if (usable(read.token)) return this.#fromStore(read.token);
        if (budget !== undefined) {
          // Before the lock, so that a lock is only held while its request can be sent.
          const attempt = await budget.take(names.budget, costOf(read.token), renewal.background === true);
          if (attempt === UNAVAILABLE) return await this.#alone(renewal);
          if ('waitMs' in attempt) {
            lockWaitSince = undefined;
            await this.#waitForBudget(scope, attempt.waitMs, signal);
            continue;
          }
          grant = attempt.grant;
        }
        // A reservation for the request the holder sends: a process holds no more locks than it can
        // soon send requests for, so a cold fleet shares the work. Only on the first try: a process
        // that already waits for a holder tries the lock again without one (it is rarely free by
        // then), and should it get it, its request queues as any other.
        const freeSlot = lockWaitSince === undefined ? await renewal.reserve?.() : undefined;
        let fence: string | undefined | Unavailable;
        // A lock found held is released later, and that is announced: heard if subscribed by now.
        wait.hearFromNow();
        try {
          fence = await lock.acquire(keys, names.channel);
        } finally {
          if (typeof fence !== 'string') freeSlot?.();
        }
        const handOn = grant;
        if (fence === UNAVAILABLE && !waitForRedis()) {
          grant = undefined;
          return await this.#alone(renewal, names, handOn);
        }
        if (fence === UNAVAILABLE) {
          grant = undefined;
          if (handOn !== undefined) await budget?.giveBack(names.budget, handOn);
          await wait.until(thisPollMs);
          continue;
        }
        if (fence !== undefined) {
          grant = undefined;
          return await this.#renewAsHolder(scope, fence, renewal, usable, handOn, freeSlot);
        }
        lockWaitSince ??= Date.now();
        if (Date.now() >= lockWaitSince + this.#p.lockTtlMs * MAX_WAIT_LOCK_TTLS) {
          grant = undefined;
          return await this.#renewUncoordinated(scope, read.version, renewal, handOn);
        }
        // Not this process's turn: the budget goes back while it waits for the holder.
        grant = undefined;
        if (handOn !== undefined) await budget?.giveBack(names.budget, handOn);
        await wait.until(thisPollMs, maxLockPollMs);
        pollMs = Math.min(2 * thisPollMs, maxLockPollMs);
      } finally {
        wait.cancel();
        forget();
        if (grant !== undefined) void budget?.giveBack(names.budget, grant);
      }
    }
  }

  /**
   * No budget left for now: wait until Redis expects a slot to free (a slot whose request is still
   * out may free sooner, so at most `pollInterval` then), or until another process writes the entry.
   */
  async #waitForBudget({ writes, keys }: Scope, waitMs: number, signal: AbortSignal | undefined): Promise<void> {
    const exact = waitMs <= (this.#p.budget?.intervalMs ?? 0);
    const wait = writes.next(keys.entry);
    const forget = whenAborted(signal, wait.cancel);
    try {
      await wait.until(exact ? waitMs : Math.min(waitMs, this.#p.pollIntervalMs));
    } finally {
      forget();
    }
  }

  /**
   * This process holds the lock: read again (a holder may have written between our read and our
   * lock), else fetch from the shared token — only a lock holder spends a shared refresh token;
   * with no shared token, client credentials (never a local refresh token, which the fleet may
   * have rotated since) — then write it if no newer token was written meanwhile.
   */
  async #renewAsHolder(
    { names, keys }: Scope,
    fence: string,
    renewal: Renewal,
    usable: (token: Token | undefined) => token is Token,
    grant: BudgetGrant | undefined,
    /** Ends the reservation for the request, if it is not sent. */
    freeSlot: (() => void) | undefined,
  ): Promise<RenewalResult> {
    const stopKeepAlive = this.#p.lock.keepAlive(keys, fence);
    let fetched = false;
    /** The grant's settlement, once sent. */
    let settled: Promise<void> | undefined;
    try {
      const read = await this.#p.entries.read(keys);
      if (read === UNAVAILABLE) {
        // Alone from here, but within the budget taken: it is settled below.
        fetched = true;
        return { token: await renewal.fetch(renewal.local), source: 'fetch' };
      }
      if (usable(read.token)) return this.#fromStore(read.token);
      // The budget taken covers one request only when the entry had no refresh token: if one was
      // written since, client credentials (exactly one request) keep within it.
      const base = grant !== undefined && grant.cost < costOf(read.token) ? undefined : read.token;
      fetched = true;
      const token = await renewal.fetch(base);
      // Answered: its slot's `interval` starts now, not after the write (slow on a slow Redis).
      settled = this.#endGrant(names, grant, true);
      // Refused means a newer token is there: this one is still valid, so it is used here anyway.
      const written = await this.#p.entries.write(keys, names.channel, read.version, token);
      if (written !== UNAVAILABLE) this.#p.shared(token);
      return { token, source: 'fetch' };
    } finally {
      freeSlot?.();
      stopKeepAlive();
      await Promise.all([this.#p.lock.release(keys, fence, names.channel), settled ?? this.#endGrant(names, grant, fetched)]);
    }
  }

  /** Waited past the bound for a live but slow holder: fetch with client credentials, write if still newest. */
  async #renewUncoordinated(
    { names, keys }: Scope,
    readVersion: number,
    renewal: Renewal,
    grant: BudgetGrant | undefined,
  ): Promise<RenewalResult> {
    try {
      const token = await renewal.fetch(undefined);
      const written = await this.#p.entries.write(keys, names.channel, readVersion, token);
      if (written !== UNAVAILABLE) this.#p.shared(token);
      return { token, source: 'fetch' };
    } finally {
      await this.#endGrant(names, grant, true);
    }
  }

  /** Settles the budget a renewal used (its requests were answered), or gives it back unused. */
  async #endGrant(names: KeyNames, grant: BudgetGrant | undefined, used: boolean): Promise<void> {
    const { budget } = this.#p;
    if (grant === undefined || budget === undefined) return;
    await (used ? budget.settle(names.budget, grant) : budget.giveBack(names.budget, grant));
  }

  /**
   * Redis is unavailable: renew as a store of one process would (save() shares it later if it can).
   * Budget already taken is settled, in case Redis answers again: the request was made. Without
   * budget taken, and with `rateLimit`, the renewal first waits for this process's share.
   */
  async #alone(renewal: Renewal, names?: KeyNames, grant?: BudgetGrant): Promise<RenewalResult> {
    const answered = grant === undefined ? await this.#p.budget?.takeAlone(costOf(renewal.local), renewal.signal) : undefined;
    try {
      return { token: await renewal.fetch(renewal.local), source: 'fetch' };
    } finally {
      answered?.();
      if (names !== undefined) await this.#endGrant(names, grant, true);
    }
  }

  #fromStore(token: Token): RenewalResult {
    this.#p.shared(token);
    return { token, source: 'store' };
  }
}
