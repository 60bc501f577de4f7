/**
 * The fleet-wide budget (`rateLimit`) of RedisTokenStore, one jest process standing for several
 * (each store on its own connection), against a real Redis (REDIS_URL). Windows are long (a minute),
 * so that nothing frees during a test and every count is exact.
 */
import { afterAll, afterEach, beforeAll, expect, it, jest } from '@jest/globals';
import { AbortError } from '../lib/shared/errors.js';
import { KeyNames } from '../lib/redis/key-names.js';
import type { RateLimitOptions } from '../lib/redis/options.js';
import type { Token } from '../lib/endpoint/token.js';
import type { Renewal } from '../lib/store/token-store.js';
import { deleteUnder, describeEachRedis, uniquePrefix, type RedisClient } from './helpers/redis.js';
import {
  deferred,
  lockRefused,
  makeToken,
  openStore,
  scriptedRenewal,
  TEST_CLIENT_ID,
  type SeenCommand,
  type StoreUnderTest,
} from './helpers/redis-stores.js';
import { until } from './helpers/until.js';

const PREFIX = uniquePrefix('rate-limit');
const MINUTE = 60_000;

/** Whether `c` is an attempt on the budget that Redis refused. */
const budgetRefused = (c: SeenCommand) => c.name === 'eval' && Array.isArray(c.reply) && c.reply[0] === 0;

describeEachRedis('RedisTokenStore rateLimit', (target) => {
  let admin: RedisClient;
  const open: StoreUnderTest[] = [];
  const budgetKey = new KeyNames(PREFIX, TEST_CLIENT_ID).budget;
  const process_ = (rateLimit: RateLimitOptions) => {
    const s = openStore(target, { keyPrefix: PREFIX, commandTimeout: 5_000, pollInterval: 50, rateLimit });
    open.push(s);
    return s;
  };
  /** A renewal of `scope` that counts its fetches; `background` as the manager would set it. */
  const renewal = (scope: string, { background = false, signal }: { background?: boolean; signal?: AbortSignal } = {}) => {
    const fetched: string[] = [];
    const r: Renewal = {
      ...scriptedRenewal({ fetch: async () => (fetched.push(scope), makeToken(scope)), ...(signal === undefined ? {} : { signal }) }),
      background,
    };
    return { renewal: r, fetched };
  };
  /** Redis's clock, in ms. */
  const redisNow = async () => {
    const [seconds, micros] = await admin.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
  const pending: AbortController[] = [];
  /** A coordinate() that the test ends itself, by aborting its signal. */
  const stuck = (s: StoreUnderTest, scope: string, background: boolean) => {
    const controller = new AbortController();
    pending.push(controller);
    const r = renewal(scope, { background, signal: controller.signal });
    const outcome = s.store.coordinate(scope, r.renewal);
    outcome.catch(() => {});
    return { ...r, outcome, abort: () => controller.abort() };
  };

  beforeAll(() => {
    admin = target.connect();
  });
  afterEach(async () => {
    for (const c of pending.splice(0)) c.abort();
    jest.restoreAllMocks();
    await Promise.all(open.splice(0).map((s) => s.close()));
    await deleteUnder(admin, PREFIX);
  });
  afterAll(async () => {
    await admin?.quit();
  });

  it('lets background renewals use only what the reserve leaves, and waiting callers the rest', async () => {
    // 6 per minute, 2 of them reserved for waiting callers; two processes share the budget.
    const a = process_({ limit: 6, interval: MINUTE, reserve: 2 });
    const b = process_({ limit: 6, interval: MINUTE, reserve: 2 });
    for (const [s, scope] of [[a, 'bg-1'], [b, 'bg-2'], [a, 'bg-3'], [b, 'bg-4']] as const) {
      expect((await s.store.coordinate(scope, renewal(scope, { background: true }).renewal)).source).toBe('fetch');
    }
    // A fifth background renewal waits: the rest is reserved.
    const waitingInBackground = stuck(a, 'bg-5', true);
    await a.next(budgetRefused);
    expect(waitingInBackground.fetched).toEqual([]);

    // Waiting callers still get through, in either process, up to the limit.
    expect((await b.store.coordinate('fg-1', renewal('fg-1').renewal)).source).toBe('fetch');
    expect((await a.store.coordinate('fg-2', renewal('fg-2').renewal)).source).toBe('fetch');
    // Then the budget is spent for everyone.
    const waitingCaller = stuck(b, 'fg-3', false);
    await b.next(budgetRefused);
    expect([waitingInBackground.fetched, waitingCaller.fetched]).toEqual([[], []]);
    expect(await admin.zcard(budgetKey)).toBe(6);

    waitingCaller.abort();
    waitingInBackground.abort();
    await expect(waitingCaller.outcome).rejects.toBeInstanceOf(AbortError);
    await expect(waitingInBackground.outcome).rejects.toBeInstanceOf(AbortError);
  });

  it('counts a renewal that spends a refresh token as two requests (the refresh, and its fallback)', async () => {
    const a = process_({ limit: 3, interval: MINUTE });
    const first = makeToken('user-r'); // has a refresh token
    await a.store.coordinate('user-r', scriptedRenewal({ fetch: async () => first }));
    expect(await admin.zcard(budgetKey)).toBe(1); // client credentials: one request

    // Renewed again (the API rejected the token): the base has a refresh token.
    const again = scriptedRenewal({ local: first, fetch: async () => makeToken('user-r') });
    await a.store.coordinate('user-r', again);
    expect(again.bases).toEqual([first]);
    expect(await admin.zcard(budgetKey)).toBe(3);

    // Nothing left for one more, even without a refresh token.
    const next = stuck(a, 'user-s', false);
    await a.next(budgetRefused);
    expect(next.fetched).toEqual([]);
  });

  it('counts on the Redis clock: a process whose clock runs an hour ahead gets no more', async () => {
    const a = process_({ limit: 2, interval: MINUTE });
    await a.store.coordinate('user-1', renewal('user-1').renewal);
    await a.store.coordinate('user-2', renewal('user-2').renewal);

    const skewed = process_({ limit: 2, interval: MINUTE });
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
    const late = stuck(skewed, 'user-3', false);
    const refused = await skewed.next(budgetRefused);
    expect(late.fetched).toEqual([]);
    // Redis says when a slot frees: within the window (plus the lease of a request not settled).
    const waitMs = (refused.reply as number[])[1]!;
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(MINUTE);
  });

  it("frees a request's slot one interval after its answer, and gives back budget it did not use", async () => {
    const a = process_({ limit: 4, interval: MINUTE });
    const b = process_({ limit: 4, interval: MINUTE });
    // a holds user-1's lock while its request is out.
    const slow = deferred<Token>();
    const holding = a.store.coordinate('user-1', scriptedRenewal({ fetch: () => slow.promise }));
    await a.next((c) => c.name === 'set' && c.reply === 'OK');
    const [, leased] = await admin.zrange(budgetKey, 0, 0, 'WITHSCORES');
    expect(Number(leased) - (await redisNow())).toBeGreaterThan(MINUTE); // held on its lease

    // b takes budget for user-1, finds the lock held, and gives its budget back while it waits.
    const waiting = b.store.coordinate('user-1', scriptedRenewal({ fetch: async () => makeToken('user-1') }));
    await b.next(lockRefused);
    let left = await admin.zcard(budgetKey);
    const watch = setInterval(() => void admin.zcard(budgetKey).then((n) => (left = n)), 10);
    try {
      await until(() => left === 1, "b's budget given back");
    } finally {
      clearInterval(watch);
    }

    slow.resolve(makeToken('user-1'));
    await holding;
    expect((await waiting).source).toBe('store'); // b used a's token: no request, no budget
    const [, settled] = await admin.zrange(budgetKey, 0, 0, 'WITHSCORES');
    expect(Number(settled) - (await redisNow())).toBeLessThanOrEqual(MINUTE);
    expect(await admin.zcard(budgetKey)).toBe(1);
  });
});
