/**
 * How long a cold caller waits for its first token while the token endpoint's queue is busy with
 * work that is not on the wire: background renewals waiting for a dead Redis (1), for the fleet's
 * budget (2), for another process's lock (3), and retries waiting out a backoff or a Retry-After
 * (4). For each case: the cold caller's wait, the token calls, and where its request reached the
 * server among the others' (did it go before their retries and waits?). Real clock, default options
 * (concurrency 8) unless a case says otherwise, a raw token server (or, for 3, the emulator) and
 * redis-servers the tool starts itself on 127.0.0.1; every case is bounded in time (about 3 min in all).
 *
 *   node --import tsx bench/tools/queue-waits.ts [path/to/other/checkout/lib/index.ts] [--only 1,2,3,4]
 *
 * Not a scenario of `npm run bench` (case 3 is: fleet-cold-start); these are the figures of a change to
 * what holds a slot of the queue, measured before and after it with the same code.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '../../__tests__/helpers/redis-client.js';
import { orderOf, startArrivalServer, type Answer, type ArrivalServer } from '../lib/arrival-server.js';
import { fleetAgainstOne } from '../lib/fleet-cold-start.js';
import { fixed, ms } from '../lib/format.js';
import { loadLibrary, machineLoad } from '../lib/library-under-test.js';
import { startRedisServer, type RedisServer } from '../lib/redis-server.js';
import { nowMs, sleep, within } from '../lib/timing.js';
import { parseToolArgs, selected } from '../lib/tool-args.js';

const args = parseToolArgs(process.argv.slice(2), 'queue-waits.ts [other/lib/index.ts] [--only 1,2,3,4]');
const lib = await loadLibrary(args.libPath);
console.log(`queue-waits: ${lib.label}; ${machineLoad()}`);

/** Short tokens: their refresh window (25% of the life) opens after 3 s; served until 3.6 s. */
const SHORT_SECONDS = 4;
/** The longest a cold caller is waited for. */
const COLD_BOUND_MS = 45_000;

/**
 * Gets `users`' tokens and uses each once more (an unused token is not renewed in the background),
 * and returns the instant (Date.now clock) by which every one of their background renewals has
 * started: the latest refresh window opening, plus its jitter (10% of the window), plus a margin.
 */
async function tokensInUse(manager: Manager, users: string[]): Promise<number> {
  const tokens = await Promise.all(users.map((user) => manager.getToken(user)));
  await Promise.all(users.map((user) => manager.getToken(user)));
  return Math.max(Date.now(), ...tokens.map((t) => t.expiresAt - 0.25 * (t.expiresAt - t.issuedAt) * (1 - 0.1))) + 150;
}

const sleepUntil = (epochMs: number) => sleep(epochMs - Date.now());

type Manager = InstanceType<typeof lib.TokenManager>;
const credentials = { clientId: 'bench-client', clientSecret: 'bench-secret' };

async function redisServer(): Promise<RedisServer> {
  const started = await startRedisServer();
  if ('missing' in started) throw new Error(`${started.missing}: these cases need redis-server`);
  return started.server;
}

/** A RedisTokenStore of the library under test on `url`, with its own client. */
function storeOn(url: string, keyPrefix: string, options: Record<string, unknown> = {}) {
  const redis = createClient({ url });
  return { redis, store: new lib.RedisTokenStore({ redis: redis as never, keyPrefix, ...options }) };
}

/** The cold caller: how long `getToken(user)` took (bounded), and where its request stood. */
async function coldCaller(manager: Manager, server: ArrivalServer, user: string) {
  const calledAt = nowMs();
  let outcome = 'served';
  try {
    await within(manager.getToken(user), COLD_BOUND_MS, `${user}'s getToken`);
  } catch (error) {
    outcome = `failed: ${(error as { code?: string }).code ?? (error as Error).message}`;
  }
  return { waitMs: nowMs() - calledAt, outcome, order: orderOf(server.arrivals, user, calledAt) };
}

function print(name: string, r: { waitMs: number; outcome: string; order: string }, tokenCalls: string): void {
  console.log(`${name}\n  cold caller waited ${ms(r.waitMs)} (${r.outcome}); token calls: ${tokenCalls}\n  ${r.order}`);
}

async function closeAll(manager: Manager, server: ArrivalServer, clients: { disconnect(): void }[]): Promise<void> {
  await within(manager.close(), 10_000, 'manager.close()').catch(() => {});
  for (const client of clients) client.disconnect();
  await server.close();
}

/** Case 1: 8 renewals due, Redis killed just before; a caller asks for a new user (or alone: none due). */
async function redisDown(name: string, { renewals, lockTtl }: { renewals: number; lockTtl?: number }): Promise<void> {
  const redis = await redisServer();
  const server = await startArrivalServer({ expiresIn: (user) => (user.startsWith('due-') ? SHORT_SECONDS : 3_600) });
  const { redis: client, store } = storeOn(redis.url, `flux-bench:queue-waits:${randomUUID()}:`, lockTtl === undefined ? {} : { lockTtl });
  const manager = new lib.TokenManager({ ...credentials, tokenUrl: server.tokenUrl, store });
  try {
    const due = Array.from({ length: renewals }, (_, i) => `due-${i}`);
    const allDue = await tokensInUse(manager, due);
    // Killed (SIGTERM: it stops within about 0.4 s) before the first renewal starts.
    await sleepUntil(allDue - 900);
    await redis.stop();
    await sleepUntil(allDue);
    const before = server.arrivals.length;
    const r = await coldCaller(manager, server, 'cold');
    print(name, r, `${server.arrivals.length} (${renewals} first tokens, then ${server.arrivals.length - before} while the cold caller waited)`);
  } finally {
    await closeAll(manager, server, [client]);
    await redis.stop();
  }
}

/** Case 2: the budget spent by background renewals (more wait for it); a cold caller has the reserve. */
async function budget(): Promise<void> {
  const rateLimit = { limit: 12, interval: 10_000, reserve: 2 };
  const users = 18;
  const redis = await redisServer();
  const server = await startArrivalServer({ expiresIn: (user) => (user.startsWith('due-') ? SHORT_SECONDS : 3_600) });
  const keyPrefix = `flux-bench:queue-waits:${randomUUID()}:`;
  // The tokens are put in Redis by a manager without a budget, so that the budget's interval starts
  // with the renewals: 18 renewals due, of which limit - reserve = 10 may go at once.
  const primer = storeOn(redis.url, keyPrefix);
  const priming = new lib.TokenManager({ ...credentials, tokenUrl: server.tokenUrl, store: primer.store });
  const due = Array.from({ length: users }, (_, i) => `due-${i}`);
  await Promise.all(due.map((user) => priming.getToken(user)));
  await priming.close();
  const limited = storeOn(redis.url, keyPrefix, { rateLimit });
  const manager = new lib.TokenManager({ ...credentials, tokenUrl: server.tokenUrl, store: limited.store });
  try {
    const primed = server.arrivals.length;
    await sleepUntil(await tokensInUse(manager, due)); // from Redis: no token request
    const renewedBefore = server.arrivals.length - primed;
    const r = await coldCaller(manager, server, 'cold');
    print(
      `2. budget (rateLimit ${rateLimit.limit} per ${rateLimit.interval / 1000} s, reserve ${rateLimit.reserve}): ${users} background renewals due, the cold caller has the reserve`,
      r,
      `${server.arrivals.length - primed} after the ${primed} first tokens (${renewedBefore} renewals before the cold caller asked)`,
    );
  } finally {
    await closeAll(manager, server, [primer.redis, limited.redis]);
    await redis.stop();
  }
}

/** Case 3: 8 processes × 800 shared cold users against one process of concurrency 64 (as fleet-cold-start). */
async function anotherProcessLock(): Promise<void> {
  const redis = await redisServer();
  try {
    const r = await fleetAgainstOne({ processes: 8, users: 800, latencyMs: 50, redisUrl: redis.url, root: lib.root, timeoutMs: 120_000 });
    console.log(
      `3. another process's lock: 8 processes × 800 shared cold users, answers in 50 ms\n` +
        `  fleet: all served in ${ms(r.fleet.wallMs)}, ${r.fleet.tokenCalls} token calls (floor 800), ${r.fleet.failures} failed, ${r.fleet.news} store events\n` +
        `  one process of concurrency ${r.singleConcurrency}: ${ms(r.single.wallMs)}, ${r.single.tokenCalls} token calls; ratio ${fixed(r.ratio, 2)}`,
    );
  } finally {
    await redis.stop();
  }
}

/** Case 4: 8 users whose requests are retried (slow 503s, time-outs, Retry-After), then a ninth, fast user. */
async function retries(name: string, slowAnswer: (attempt: number) => Answer | undefined, options: Record<string, unknown> = {}): Promise<void> {
  const server = await startArrivalServer({ script: (a) => (a.user.startsWith('slow-') ? slowAnswer(a.attempt) : undefined) });
  const manager = new lib.TokenManager(lib.options({ ...credentials, tokenUrl: server.tokenUrl, ...options }) as unknown as ConstructorParameters<typeof lib.TokenManager>[0]);
  try {
    const slow = Array.from({ length: 8 }, (_, i) => manager.getToken(`slow-${i}`).catch(() => undefined));
    await sleep(100);
    const r = await coldCaller(manager, server, 'fast');
    const slowCalls = server.arrivals.filter((a) => a.user.startsWith('slow-')).length;
    print(name, r, `${server.arrivals.length} (${slowCalls} of the slow users by then)`);
    void Promise.all(slow);
  } finally {
    await closeAll(manager, server, []);
  }
}

if (selected(args, '1')) {
  await redisDown('1. Redis down: 8 background renewals due, Redis killed, a caller asks for a new user', { renewals: 8 });
  await redisDown('1. the same with lockTtl 3 s', { renewals: 8, lockTtl: 3_000 });
  await redisDown('1. alone: Redis killed, no renewal due, a caller asks for a new user', { renewals: 0 });
}
if (selected(args, '2')) await budget();
if (selected(args, '3')) await anotherProcessLock();
if (selected(args, '4')) {
  await retries('4. retries: 8 users answered 503 after 10 s (each attempt), then a ninth user answered at once', () => ({ delayMs: 10_000, status: 503, body: { error: 'temporarily_unavailable' } }));
  await retries('4. retries: 8 users never answered (timeout 2 s), then a ninth user', () => ({ hang: true }), { request: { timeout: 2_000 } });
  await retries('4. retries: 8 users answered 503 + Retry-After: 5 twice, then a token; a ninth user', (attempt) => (attempt <= 2 ? { status: 503, headers: { 'retry-after': '5' }, body: { error: 'temporarily_unavailable' } } : undefined));
}
console.log(machineLoad());
// Work the bounds gave up on may still hold timers.
process.exit(0);
