/**
 * Scope isolation under load: 100 users × 20 concurrent requests each, through got (gotAuth) and
 * through fetch (authFetch), against the emulator's per-user API, with tokens renewed while
 * requests are in flight. The emulator checks every request's token against the user in its path:
 * it must count no wrong-user (nor unknown, nor missing) 401, and every request must end in a 200
 * for its own user. On the client side, no access token is ever sent for two users.
 *
 * The emulator and the manager share one manual clock, which moves only between rounds: however
 * long 2,000 requests queue on a busy CPU, no token expires while they do. Each of the 2,000 loops
 * sends one request per round. Round 1 gets every user a token; the clock then moves into the
 * tokens' refresh window, so round 2's requests start renewals (the refresh grant) while the
 * others are in flight; once those renewals are done, round 3 runs on the renewed tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import got from 'got';
import { Agent } from 'node:http';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { authFetch, TokenManager } from '../lib/index.js';
import { gotAuth } from '../lib/got.js';
import { ManualClock } from './fixtures/manual-clock.js';
import { whenIdle } from './fixtures/manager-harness.js';
import { failOnUnhandledRejections, within } from './helpers/reliability.js';

failOnUnhandledRejections();

const USERS = 100;
const CONCURRENCY_PER_USER = 20;
/** Requests each loop sends, one per round. */
const ROUNDS = 3;
/** Token lifetime in seconds. The manager renews it from 3–3.1 s on, and hands it out until 3.6 s. */
const EXPIRES_IN = 4;
/** Where the clock moves after round 1: inside every token's refresh window, before its margin. */
const INTO_REFRESH_WINDOW_MS = 3_300;
/** A bound on each phase, in real time, in case something hangs; it takes 5–10 s on an idle machine. */
const PHASE_TIMEOUT_MS = 120_000;
/** User ids, a few of which need encoding in a path or collide with Object.prototype. */
const USER_IDS = Array.from({ length: USERS }, (_, i) => ['__proto__', 'constructor', 'ü-ser', 'a b', 'a/b'][i] ?? `user-${i}`);

/** What one request ended in, as the client saw it. */
interface Sent {
  status: number;
  /** The user the API answered for. */
  answeredFor: unknown;
  /** Why the API refused the request (the emulator's `reason`: expired, wrong-user, ...). */
  reason?: unknown;
  /** The Authorization header the (last) request carried. */
  authorization: string | null | undefined;
}

interface LoadResult {
  sent: number;
  ok: number;
  /** Requests that did not end in a 200 for their own user, with what they ended in. */
  failures: string[];
  /** Access token (header value) -> the users it was sent for. */
  usersOfToken: Map<string, Set<string>>;
  /** User -> the distinct tokens its requests carried. */
  tokensOfUser: Map<string, Set<string>>;
}

/**
 * Runs CONCURRENCY_PER_USER loops per user, all at once, each sending one request per round; the
 * rounds are separated by `between(round)`, which runs once every loop has finished the round.
 */
async function drive(send: (user: string) => Promise<Sent>, between: (round: number) => Promise<void>): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, ok: 0, failures: [], usersOfToken: new Map(), tokensOfUser: new Map() };
  const record = (user: string, authorization: string) => {
    if (!result.usersOfToken.has(authorization)) result.usersOfToken.set(authorization, new Set());
    result.usersOfToken.get(authorization)!.add(user);
    if (!result.tokensOfUser.has(user)) result.tokensOfUser.set(user, new Set());
    result.tokensOfUser.get(user)!.add(authorization);
  };
  const once = async (user: string) => {
    result.sent++;
    try {
      const { status, answeredFor, reason, authorization } = await send(user);
      if (typeof authorization === 'string') record(user, authorization);
      if (status === 200 && answeredFor === user) result.ok++;
      else result.failures.push(`${user}: ${status} ${status === 200 ? `for ${String(answeredFor)}` : `(${String(reason)})`}`);
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      result.failures.push(`${user}: ${String(error)}${cause === undefined ? '' : ` (${String(cause)})`}`);
    }
  };
  const all = async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      await Promise.all(USER_IDS.flatMap((user) => Array.from({ length: CONCURRENCY_PER_USER }, () => once(user))));
      if (round < ROUNDS) await between(round);
    }
  };
  await within(PHASE_TIMEOUT_MS - 10_000, all(), 'the load');
  return result;
}

let emulator: Emulator;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock();
  emulator = await startEmulator({ expiresIn: EXPIRES_IN, now: clock.now });
});

afterAll(async () => {
  await emulator.close();
});

/** A manager on the shared manual clock. */
function manualManager(): TokenManager {
  return new TokenManager({
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    tokenUrl: emulator.tokenUrl,
    // Token requests share the emulator with 2,000 API requests: let more of them through at once.
    concurrency: 32,
    // However long a token request queues on a busy CPU, it must not be given up and sent again:
    // with strict rotation a resent refresh token is refused. A hang still fails the phase.
    timeout: PHASE_TIMEOUT_MS,
    now: clock.now,
    timers: clock.timers,
  });
}

/**
 * Between rounds: after round 1, into the refresh window (scheduled renewals start at once); after
 * round 2, wait until the renewals it started are done, so that round 3 sends the renewed tokens.
 */
function betweenRounds(manager: TokenManager): (round: number) => Promise<void> {
  return async (round) => {
    if (round === 1) clock.advance(INTO_REFRESH_WINDOW_MS);
    else await whenIdle(manager);
  };
}

function expectIsolated(result: LoadResult): void {
  const stats = emulator.stats();
  expect(result.failures.slice(0, 10)).toEqual([]);
  expect(result.sent).toBe(USERS * CONCURRENCY_PER_USER * ROUNDS);
  expect(result.ok).toBe(result.sent);
  // The emulator's view: no request carried another user's token, or none at all.
  expect(stats.api.unauthorized).toMatchObject({ 'wrong-user': 0, unknown: 0, missing: 0, forced: 0 });
  expect(stats.api.byStatus['200']).toBe(result.sent);
  // The client's view: no token was ever sent for two users.
  const shared = [...result.usersOfToken.values()].filter((users) => users.size > 1);
  expect(shared.map((users) => [...users])).toEqual([]);
  // Tokens were renewed under load: every user's requests carried more than one token, and the
  // endpoint was asked once per user and renewal, not once per request.
  const renewedUsers = [...result.tokensOfUser.values()].filter((tokens) => tokens.size > 1).length;
  expect(renewedUsers).toBe(USERS);
  expect(stats.tokenCalls.byGrant.refresh_token).toBe(USERS);
  expect(stats.tokenCalls.total).toBe(USERS * 2);
  // One flight per user at a time: strict rotation never saw a refresh token twice.
  expect(stats.tokenCalls.invalidGrant).toBe(0);
}

describe(`${USERS} users × ${CONCURRENCY_PER_USER} concurrent requests, tokens renewed under load`, () => {
  it('through got (gotAuth): every request reaches its own user, no wrong-user 401', async () => {
    const manager = manualManager();
    const agent = new Agent({ keepAlive: true });
    const client = got.extend(gotAuth(manager), { agent: { http: agent }, retry: { limit: 0 }, throwHttpErrors: false });
    emulator.resetStats();
    try {
      const result = await drive(async (user) => {
        const response = await client.get(`${emulator.url}/users/${encodeURIComponent(user)}/receipts`, { context: { scope: user } });
        const body = JSON.parse(response.body) as { user?: unknown; reason?: unknown };
        return {
          status: response.statusCode,
          answeredFor: body.user,
          reason: body.reason,
          authorization: response.request.options.headers.authorization as string | undefined,
        };
      }, betweenRounds(manager));
      expectIsolated(result);
    } finally {
      agent.destroy();
      await within(5_000, manager.close());
    }
  }, PHASE_TIMEOUT_MS);

  it('through fetch (authFetch): every request reaches its own user, no wrong-user 401', async () => {
    const manager = manualManager();
    /** The Authorization header each response's request carried, as handed to fetch. */
    const sentWith = new WeakMap<Response, string | null>();
    const fetchAs = authFetch(manager, {
      scope: (request) => decodeURIComponent(new URL(request.url).pathname.split('/')[2]!),
      fetch: async (input, init) => {
        const authorization = (input as Request).headers.get('authorization');
        const response = await fetch(input, init);
        sentWith.set(response, authorization);
        return response;
      },
    });
    emulator.resetStats();
    try {
      const result = await drive(async (user) => {
        const response = await fetchAs(`${emulator.url}/users/${encodeURIComponent(user)}/receipts`);
        const { user: answeredFor, reason } = (await response.json()) as { user?: unknown; reason?: unknown };
        return { status: response.status, answeredFor, reason, authorization: sentWith.get(response) };
      }, betweenRounds(manager));
      expectIsolated(result);
    } finally {
      await within(5_000, manager.close());
    }
  }, PHASE_TIMEOUT_MS);
});
