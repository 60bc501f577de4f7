/**
 * Wakes a process that waits for another one's renewal as soon as the new token is written (or the
 * lock released): the scripts publish the entry's key name on the client's channel, and this
 * listens to it on a connection of its own (pub/sub needs one). Only a hint: every wait also ends
 * after its poll, so a lost message, or no subscriber at all, costs time, never correctness. While
 * the subscription is live, the poll can be long: see WriteWait.until().
 */
import type { Redis } from 'ioredis';

/**
 * One wait for a write of one entry. It listens from the moment it is made (so that a write
 * landing while its process still reads Redis, or waits for its queue, is not missed); its time
 * bound runs only from `until()`: a wait made before a long reservation has not used up its poll.
 */
export interface WriteWait {
  /**
   * Resolves on the announcement (at once if it came already), or `ms` from now, whichever is
   * first; `ms` is `heardMs` instead when the subscription has been live since the wait began (or
   * since `hearFromNow()`), so that the announcement cannot be missed and polling would only cost
   * Redis work. Called once per wait: a second call returns the first one's promise.
   */
  until(ms: number, heardMs?: number): Promise<void>;
  /**
   * Notes that what happens in Redis from now on is heard, if the subscription is live now: a wait
   * that began before the subscription, and then sees a lock held, hears that lock's release.
   */
  hearFromNow(): void;
  /** Ends the wait now (resolving it), and forgets it. */
  cancel(): void;
}

/** A wait's state: whether its process is awaiting it (`until()` was called), and hears every announcement. */
interface Waker {
  (): void;
  awaiting: boolean;
  /** The subscription was live when the wait began (or at `hearFromNow()`), and has been since. */
  heard: boolean;
}

const noop = () => {};

export class WriteSignal {
  readonly #redis: Redis;
  readonly #channel: string;
  /** Invariant: holds exactly the wakers of waits that are neither resolved nor cancelled. */
  readonly #waiters = new Map<string, Set<Waker>>();
  /** The subscriber connection, opened on the first wait, closed by close(). */
  #subscriber: Redis | undefined;
  /** The subscription is active on a connection that has not dropped since: no announcement is missed. */
  #live = false;
  #closed = false;
  readonly #onClientEnd = () => void this.close();

  constructor(redis: Redis, channel: string) {
    this.#redis = redis;
    this.#channel = channel;
  }

  /**
   * Starts listening for a write of `entryKey`. Start it before reading the entry, so that a write
   * landing between the read and the wait is not missed.
   */
  next(entryKey: string): WriteWait {
    this.#subscribe();
    let timer: NodeJS.Timeout | undefined;
    let woken = false;
    let resolveWait: (() => void) | undefined;
    let waiting: Promise<void> | undefined;
    const wake = (() => {
      if (woken) return;
      woken = true;
      clearTimeout(timer);
      const set = this.#waiters.get(entryKey);
      set?.delete(wake);
      if (set?.size === 0) this.#waiters.delete(entryKey);
      resolveWait?.();
    }) as Waker;
    wake.awaiting = false;
    wake.heard = this.#live;
    let set = this.#waiters.get(entryKey);
    if (set === undefined) this.#waiters.set(entryKey, (set = new Set()));
    set.add(wake);
    return {
      hearFromNow: () => {
        if (this.#live) wake.heard = true;
      },
      until: (ms, heardMs = ms) => {
        if (woken) return Promise.resolve();
        wake.awaiting = true;
        // Once per wait: a second call gets the same promise, with the first call's bound.
        waiting ??= new Promise<void>((resolve) => {
          resolveWait = resolve;
          timer = setTimeout(wake, wake.heard ? heardMs : ms);
        });
        return waiting;
      },
      cancel: wake,
    };
  }

  /** Closes the subscriber connection and ends every wait. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#redis.off('end', this.#onClientEnd);
    this.#wakeAll();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#live = false;
    // disconnect(), not quit(): quit() would wait for a Redis that may be down. Not on an ended
    // client: ioredis would leave a 2 s timer behind for its long-closed socket.
    if (subscriber !== undefined && subscriber.status !== 'end') subscriber.disconnect();
  }

  /** Ends every wait; with `awaitingOnly`, only those whose process is already waiting on them. */
  #wakeAll(awaitingOnly = false): void {
    for (const set of [...this.#waiters.values()]) for (const wake of [...set]) if (!awaitingOnly || wake.awaiting) wake();
  }

  #subscribe(): void {
    if (this.#subscriber !== undefined || this.#closed) return;
    let subscriber: Redis;
    try {
      // No ready check: SUBSCRIBE needs none, and ioredis leaves a 2 s timer behind when a client
      // is disconnected in the middle of one (which close() may do during an outage).
      subscriber = this.#redis.duplicate({ enableReadyCheck: false });
    } catch {
      return; // no pub/sub: the waits poll
    }
    this.#subscriber = subscriber;
    // Without a listener, ioredis prints connection errors to the console; the waits poll anyway.
    subscriber.on('error', noop);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const set = this.#waiters.get(message);
      if (set !== undefined) for (const wake of [...set]) wake();
    });
    // Waits that started before the subscription could miss an announcement: those already waited
    // on are woken once it is active, so that they read again (the first contention of a cold
    // process is the usual case). The others have not read yet or still wait for their queue: their
    // poll bounds what a missed announcement costs, and waking the thousands of a cold start would
    // send each of them to Redis once more for nothing. The same after a lost connection, which
    // ioredis reconnects: subscribing again tells when announcements are heard once more.
    let subscribing = false;
    const listen = () => {
      if (subscribing) return;
      subscribing = true;
      subscriber.subscribe(this.#channel).then(
        () => {
          subscribing = false;
          if (this.#subscriber !== subscriber) return;
          // A cluster client moves its subscription to another node without telling (no 'close'):
          // there, announcements can be lost unseen, so its waits keep polling every pollInterval.
          this.#live = subscriber.isCluster !== true;
          this.#wakeAll(true);
        },
        () => {
          subscribing = false;
        },
      );
    };
    subscriber.on('close', () => {
      if (!this.#live) return;
      this.#live = false;
      for (const set of this.#waiters.values()) for (const wake of set) wake.heard = false;
      this.#wakeAll(true); // each reads again, and polls until the subscription is back
    });
    subscriber.on('ready', () => {
      if (!this.#live && this.#subscriber === subscriber) listen();
    });
    listen();
    // The application quit its client without closing the manager: do not keep the process alive.
    this.#redis.once('end', this.#onClientEnd);
  }
}
