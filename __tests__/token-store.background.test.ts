/**
 * What a shared store learns from the manager about a renewal: whether a caller waits for it. A
 * store with a fleet-wide budget gives waiting callers first claim, so the flag must be live: a
 * background refresh that a caller starts waiting for is a caller's renewal from then on.
 */
import { afterEach, expect, it } from '@jest/globals';
import type { Token } from '../lib/endpoint/token.js';
import type { EvictionListener, Renewal, RenewalResult, TokenStore } from '../lib/store/token-store.js';
import { startHarness, type Harness } from './fixtures/manager-harness.js';
import { deferred } from './helpers/redis-stores.js';

/** A store that renews through the manager, noting `background` when asked to and holding on request. */
class WatchingStore implements TokenStore {
  readonly local = new Map<string, Token>();
  /** What `renewal.background` said, each time the test looked. */
  readonly seen: (boolean | undefined)[] = [];
  current: Renewal | undefined;
  gate: Promise<void> = Promise.resolve();

  get size(): number {
    return this.local.size;
  }
  peek(key: string): Token | undefined {
    return this.local.get(key);
  }
  async coordinate(_key: string, renewal: Renewal): Promise<RenewalResult> {
    this.current = renewal;
    this.seen.push(renewal.background);
    await this.gate;
    return { token: await renewal.fetch(renewal.local), source: 'fetch' };
  }
  save(key: string, token: Token): void {
    this.local.set(key, token);
  }
  onEvict(_listener: EvictionListener): void {}
}

let h: Harness;
afterEach(async () => {
  await h.stop();
});

it('tells the store whether a caller waits for a renewal, and when one starts waiting for a background refresh', async () => {
  const store = new WatchingStore();
  h = await startHarness({ store });
  const { clock, manager } = h;
  const first = await manager.getToken('user-1'); // a caller waits: not background
  expect(store.seen).toEqual([false]);

  const held = deferred<void>();
  store.gate = held.promise;
  clock.jumpTo(first.expiresAt - 300_000); // the refresh window opens: a background refresh starts
  expect(await manager.getToken('user-1')).toBe(first);
  await new Promise((resolve) => setImmediate(resolve));
  expect(store.seen).toEqual([false, true]);

  // Past the token's margin, a caller must wait: it joins the refresh, which is no longer background.
  clock.jumpTo(first.expiresAt);
  const waiting = manager.getToken('user-1');
  store.seen.push(store.current?.background);
  expect(store.seen).toEqual([false, true, false]);
  held.resolve();
  expect(await waiting).not.toBe(first);
});
