/**
 * The manager's bookkeeping of each cached token (its record) kept as the store's value: what the
 * default store promises through `keepRecords`, and what the manager does with it.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { LruTokenStore } from '../lib/store/lru-store.js';
import { createToken, type Token } from '../lib/endpoint/token.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { EvictionReason, TokenRecord } from '../lib/store/token-store.js';
import { createFakeGot, type FakeGot } from './fixtures/fake-got.js';

const tokenOf = (accessToken: string): Token =>
  createToken({ accessToken, tokenType: 'bearer', expiresIn: 3600, issuedAt: 0, expiresAt: 3_600_000 });

const isToken = (value: unknown): boolean => typeof value === 'object' && value !== null && 'accessToken' in value;

function managerOn(store: LruTokenStore | undefined, fake: FakeGot, maxScopes?: number): TokenManager {
  return new TokenManager({
    clientId: 'client-1',
    clientSecret: 'secret-1',
    tokenUrl: 'http://127.0.0.1:9/auth/oauth/token', // never reached: the fake answers
    request: { got: fake.got, retry: 0 },
    ...(store === undefined ? { maxScopes } : { store }),
  });
}

describe('LruTokenStore.keepRecords', () => {
  it("keeps one manager's records: a second asker gets none", () => {
    const store = new LruTokenStore();
    expect(store.keepRecords()).toBeDefined();
    expect(store.keepRecords()).toBeUndefined();
  });

  it('holds a record only while the store holds its token, and has none for a token saved without one', () => {
    const store = new LruTokenStore();
    const keeper = store.keepRecords()!;
    const first = tokenOf('at.1');
    const second = tokenOf('at.2');
    store.save('user-1', first);
    expect(keeper.get('user-1')).toBeUndefined();

    const record = { token: first };
    keeper.hold('user-1', record);
    expect(keeper.get('user-1')).toBe(record);
    expect(store.peek('user-1')).toBe(first);

    store.save('user-1', second); // replaced: the record went with its token
    keeper.hold('user-1', record); // too late: ignored
    expect(keeper.get('user-1')).toBeUndefined();
    expect(store.peek('user-1')).toBe(second);
    keeper.hold('user-2', { token: first }); // nothing there: ignored
    expect(store.peek('user-2')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('hands each evicted record to the eviction listeners, with its token', () => {
    const store = new LruTokenStore({ maxScopes: 1 });
    const keeper = store.keepRecords()!;
    const evicted: [string, Token, EvictionReason, TokenRecord | undefined][] = [];
    store.onEvict((key, token, reason, record) => evicted.push([key, token, reason, record]));
    const a = tokenOf('at.a');
    const b = tokenOf('at.b');
    const record = { token: a };
    store.save('a', a);
    keeper.hold('a', record);
    store.save('b', b); // evicts a, with its record
    store.save('c', tokenOf('at.c')); // evicts b, which had none
    expect(evicted).toEqual([
      ['a', a, 'evict', record],
      ['b', b, 'evict', undefined],
    ]);
    expect(evicted[0]![3]).toBe(record);
  });
});

describe('a manager on a store that keeps records', () => {
  const managers: TokenManager[] = [];
  afterEach(async () => {
    jest.restoreAllMocks();
    for (const manager of managers.splice(0)) await manager.close();
  });

  it('keeps no entry per token beside the default store, filling, hitting or evicting', async () => {
    const sets = jest.spyOn(WeakMap.prototype, 'set');
    const gets = jest.spyOn(WeakMap.prototype, 'get');
    const fake = createFakeGot();
    const manager = managerOn(undefined, fake, 100);
    managers.push(manager);
    let evicted = 0;
    manager.on('evicted', () => evicted++);

    const scopes = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    await Promise.all(scopes.map((scope) => manager.getToken(scope)));
    const cached = scopes.slice(200);
    const tokens = await Promise.all(cached.map((scope) => manager.getToken(scope)));

    expect(fake.calls).toBe(300); // the last 100 were hits
    expect(tokens.every(isToken)).toBe(true);
    expect(evicted).toBe(200);
    expect(manager.stats()).toMatchObject({ cached: 100, scheduled: 100, hits: 100 });
    // Neither the hits nor the evictions went through a table keyed by token.
    expect(sets.mock.calls.filter(([key]) => isToken(key)).length).toBe(0);
    expect(gets.mock.calls.filter(([key]) => isToken(key)).length).toBe(0);
  });

  it('takes up a token saved into the store by someone else, and drops its schedule when it is evicted', async () => {
    const fake = createFakeGot();
    const store = new LruTokenStore({ maxScopes: 2 });
    const manager = managerOn(store, fake);
    managers.push(manager);
    const foreign = createToken({ accessToken: 'at.x.0', tokenType: 'bearer', expiresIn: 3600, issuedAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    store.save('other', foreign);

    expect(await manager.getToken('other')).toBe(foreign);
    expect(manager.stats()).toMatchObject({ cached: 1, scheduled: 1, hits: 1, misses: 0 });
    await manager.getToken('a');
    await manager.getToken('b'); // evicts `other`
    expect(manager.stats()).toMatchObject({ cached: 2, scheduled: 2 });
    expect(fake.calls).toBe(2);
  });

  it('shares a store with a second manager, which keeps its own records: both drop the schedules of evicted scopes', async () => {
    const fake = createFakeGot();
    const store = new LruTokenStore({ maxScopes: 10 });
    const first = managerOn(store, fake);
    const second = managerOn(store, fake);
    managers.push(first, second);

    const fromFirst = await Promise.all(Array.from({ length: 5 }, (_, i) => first.getToken(`a-${i}`)));
    const fromSecond = await Promise.all(Array.from({ length: 5 }, (_, i) => second.getToken(`b-${i}`)));
    // Each answers the other's scopes from the store, without a request.
    expect(await Promise.all(fromFirst.map((_, i) => second.getToken(`a-${i}`)))).toEqual(fromFirst);
    expect(await Promise.all(fromSecond.map((_, i) => first.getToken(`b-${i}`)))).toEqual(fromSecond);
    expect(fake.calls).toBe(10);
    expect(first.stats()).toMatchObject({ cached: 10, scheduled: 10 });
    expect(second.stats()).toMatchObject({ cached: 10, scheduled: 10 });

    // Ten new scopes through the first manager evict all twenty entries' scopes from both schedules.
    await Promise.all(Array.from({ length: 10 }, (_, i) => first.getToken(`c-${i}`)));
    expect(first.stats()).toMatchObject({ cached: 10, scheduled: 10 });
    expect(second.stats()).toMatchObject({ cached: 10, scheduled: 0 });
  });
});
