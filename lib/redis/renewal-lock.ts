/**
 * The renewal lock of one scope across the fleet: `SET lock <fence> NX PX ttl`, where the fence is
 * a random value only the holder knows. Released and extended by compare-and-* scripts, so that a
 * holder whose lock expired can never release or extend the lock of the process that took over.
 */
import { randomBytes } from 'node:crypto';
import type { ScopeKeys } from './key-names.js';
import { UNAVAILABLE, type RedisLink, type Unavailable } from './redis-link.js';
import { EXTEND_LOCK, RELEASE_LOCK } from './scripts.js';

/** The holder extends its lock every third of its lifetime, so that two missed beats still leave it held. */
const KEEP_ALIVE_FRACTION = 3;

export class RenewalLock {
  readonly #link: RedisLink;
  readonly #ttlMs: number;

  constructor(link: RedisLink, ttlMs: number) {
    this.#link = link;
    this.#ttlMs = ttlMs;
  }

  /**
   * Takes the lock: its fence when taken, undefined when another process holds it. When Redis
   * answers too late, the `SET NX` may still have taken the lock after this process moved on: with
   * a fence nobody else knows, the fleet would wait `lockTtl` for it. So a late `OK` is released at
   * once (and announced on `channel`).
   */
  async acquire(keys: ScopeKeys, channel: string): Promise<string | undefined | Unavailable> {
    const fence = randomBytes(16).toString('hex');
    const reply = await this.#link.run('SET NX', (redis) => redis.set(keys.lock, fence, 'PX', this.#ttlMs, 'NX'), {
      onLate: (late) => {
        if (late === 'OK') void this.release(keys, fence, channel);
      },
    });
    if (reply === UNAVAILABLE) return UNAVAILABLE;
    return reply === 'OK' ? fence : undefined;
  }

  /**
   * Releases the lock if it still holds `fence`, and announces it on `channel`. Never throws. Always
   * sent, even while a recent failure holds other commands back: a holder whose write just timed
   * out would otherwise leave its lock to expire, and the fleet would wait `lockTtl` for the scope.
   */
  async release(keys: ScopeKeys, fence: string, channel: string): Promise<void> {
    await this.#link.run('EVAL release', (redis) => redis.eval(RELEASE_LOCK, 1, keys.lock, fence, channel, keys.entry), {
      always: true,
    });
  }

  /**
   * Keeps extending the lock while the holder works (its request may outlast `lockTtl`), until the
   * returned function is called or the lock is found lost. A holder that dies stops extending, and
   * its lock expires within `lockTtl`.
   */
  keepAlive(keys: ScopeKeys, fence: string): () => void {
    let stopped = false;
    const timer = setInterval(() => {
      void this.#link
        .run('EVAL extend', (redis) => redis.eval(EXTEND_LOCK, 1, keys.lock, fence, String(this.#ttlMs)))
        .then((extended) => {
          if (extended === 0 && !stopped) stop();
        });
    }, Math.max(1, Math.floor(this.#ttlMs / KEEP_ALIVE_FRACTION)));
    timer.unref();
    const stop = () => {
      stopped = true;
      clearInterval(timer);
    };
    return stop;
  }
}
