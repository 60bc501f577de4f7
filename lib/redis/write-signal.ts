/**
 * Wakes a process that waits for another one's renewal as soon as the new token is written (or the
 * lock released): the scripts publish the entry's key name on the client's channel, and this
 * listens to it on a connection of its own (pub/sub needs one). Only a hint: every wait also ends after its poll
 * interval, so a lost message, or no subscriber at all, costs time, never correctness.
 */
import type { Redis } from 'ioredis';

/** One wait for a write: `promise` resolves on the announcement or at the deadline, whichever is first. */
export interface WriteWait {
  readonly promise: Promise<void>;
  /** Ends the wait now (resolving it), and forgets it. */
  cancel(): void;
}

const noop = () => {};

export class WriteSignal {
  readonly #redis: Redis;
  readonly #channel: string;
  /** Invariant: holds exactly the wakers of waits that are neither resolved nor cancelled. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /** The subscriber connection, opened on the first wait, closed by close(). */
  #subscriber: Redis | undefined;
  #closed = false;
  readonly #onClientEnd = () => void this.close();

  constructor(redis: Redis, channel: string) {
    this.#redis = redis;
    this.#channel = channel;
  }

  /**
   * Starts waiting for a write of `entryKey`, for at most `ms`. Start it before reading the entry,
   * so that a write landing between the read and the wait is not missed.
   */
  next(entryKey: string, ms: number): WriteWait {
    this.#subscribe();
    let wake = noop;
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<void>((resolve) => {
      wake = () => {
        clearTimeout(timer);
        const set = this.#waiters.get(entryKey);
        set?.delete(wake);
        if (set?.size === 0) this.#waiters.delete(entryKey);
        resolve();
      };
      timer = setTimeout(wake, ms);
      let set = this.#waiters.get(entryKey);
      if (set === undefined) this.#waiters.set(entryKey, (set = new Set()));
      set.add(wake);
    });
    return { promise, cancel: () => wake() };
  }

  /** Closes the subscriber connection and ends every wait. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#redis.off('end', this.#onClientEnd);
    this.#wakeAll();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    // disconnect(), not quit(): quit() would wait for a Redis that may be down. Not on an ended
    // client: ioredis would leave a 2 s timer behind for its long-closed socket.
    if (subscriber !== undefined && subscriber.status !== 'end') subscriber.disconnect();
  }

  #wakeAll(): void {
    for (const set of [...this.#waiters.values()]) for (const wake of [...set]) wake();
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
    // Waits that started before the subscription could miss an announcement: wake them once it is
    // active, so that they read again (the first contention of a cold process is the usual case).
    subscriber.subscribe(this.#channel).then(() => this.#wakeAll(), noop);
    // The application quit its client without closing the manager: do not keep the process alive.
    this.#redis.once('end', this.#onClientEnd);
  }
}
