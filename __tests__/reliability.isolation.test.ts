/**
 * Scope isolation under load: 100 users × 20 concurrent requests each, through got (gotAuth) and
 * through fetch (authFetch), against the emulator's per-user API, with short tokens renewed while
 * requests are in flight. The emulator checks every request's token against the user in its path:
 * it must count no wrong-user (nor unknown, nor missing) 401, and every request must end in a 200
 * for its own user. On the client side, no access token is ever sent for two users.
 *
 * With 2,000 requests in flight on 2 cores, a request waits one to three seconds behind the others,
 * so a token must outlive that wait by the emulator's clock, yet be renewed between two requests of
 * one user. So the emulator issues 4 s tokens, and the manager's clock (and timers) run 10 times as
 * fast as the real ones: the manager renews a token 0.3 s after it got it and stops handing it out
 * after 0.36 s, while the emulator honours it for 4 s. Each of the 2,000 loops sends two requests in
 * turn, so each user's token is renewed (with the refresh grant) while other requests are in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import got from 'got';
import { Agent } from 'node:http';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { authFetch, TokenManager } from '../lib/index.js';
import { gotAuth } from '../lib/got.js';
import { failOnUnhandledRejections, within } from './helpers/reliability.js';

failOnUnhandledRejections();

const USERS = 100;
const CONCURRENCY_PER_USER = 20;
/** Requests each loop sends one after another. */
const ROUNDS = 2;
/** Token lifetime in seconds, as the emulator counts it. */
const EXPIRES_IN = 4;
/** How much faster the manager's clock (and its timers) run than the real ones. */
const CLOCK_SPEED = 10;
/** Each phase takes 3–7 s here, and 20–30 s with two CPU-bound processes beside it. */
const PHASE_TIMEOUT_MS = 90_000;
/** User ids, a few of which need encoding in a path or collide with Object.prototype. */
const USER_IDS = Array.from({ length: USERS }, (_, i) => ['__proto__', 'constructor', 'ü-ser', 'a b', 'a/b'][i] ?? `user-${i}`);

/** What one request ended in, as the client saw it. */
interface Sent {
  status: number;
  /** The user the API answered for. */
  answeredFor: unknown;
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

/** Runs CONCURRENCY_PER_USER loops per user, all at once, each sending ROUNDS requests in turn. */
async function drive(send: (user: string) => Promise<Sent>): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, ok: 0, failures: [], usersOfToken: new Map(), tokensOfUser: new Map() };
  const record = (user: string, authorization: string) => {
    if (!result.usersOfToken.has(authorization)) result.usersOfToken.set(authorization, new Set());
    result.usersOfToken.get(authorization)!.add(user);
    if (!result.tokensOfUser.has(user)) result.tokensOfUser.set(user, new Set());
    result.tokensOfUser.get(user)!.add(authorization);
  };
  const loop = async (user: string) => {
    for (let round = 0; round < ROUNDS; round++) {
      result.sent++;
      try {
        const { status, answeredFor, authorization } = await send(user);
        if (typeof authorization === 'string') record(user, authorization);
        if (status === 200 && answeredFor === user) result.ok++;
        else result.failures.push(`${user}: ${status} for ${String(answeredFor)}`);
      } catch (error) {
        result.failures.push(`${user}: ${String(error)}`);
      }
    }
  };
  const loops = USER_IDS.flatMap((user) => Array.from({ length: CONCURRENCY_PER_USER }, () => loop(user)));
  await within(PHASE_TIMEOUT_MS - 10_000, Promise.all(loops), 'the load');
  return result;
}

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ expiresIn: EXPIRES_IN });
});

afterAll(async () => {
  await emulator.close();
});

/** A manager whose clock and timers run CLOCK_SPEED times as fast as the real ones. */
function fastManager(): TokenManager {
  const start = Date.now();
  return new TokenManager({
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    tokenUrl: emulator.tokenUrl,
    // Token requests share the emulator with 2,000 API requests: let more of them through at once.
    concurrency: 32,
    now: () => start + (Date.now() - start) * CLOCK_SPEED,
    timers: {
      setTimeout: (callback, ms) => setTimeout(callback, ms / CLOCK_SPEED),
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    },
  });
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
  // Tokens were renewed under load: most users' requests carried more than one token, and the
  // endpoint was asked about once per user and round, not once per request.
  const renewedUsers = [...result.tokensOfUser.values()].filter((tokens) => tokens.size > 1).length;
  expect(renewedUsers).toBeGreaterThanOrEqual(USERS / 2);
  expect(stats.tokenCalls.byGrant.refresh_token).toBeGreaterThanOrEqual(USERS / 2);
  expect(stats.tokenCalls.total).toBeLessThanOrEqual(USERS * ROUNDS * 2);
  // One flight per user at a time: strict rotation never saw a refresh token twice.
  expect(stats.tokenCalls.invalidGrant).toBe(0);
}

describe(`${USERS} users × ${CONCURRENCY_PER_USER} concurrent requests, tokens renewed under load`, () => {
  it('through got (gotAuth): every request reaches its own user, no wrong-user 401', async () => {
    const manager = fastManager();
    const agent = new Agent({ keepAlive: true });
    const client = got.extend(gotAuth(manager), { agent: { http: agent }, retry: { limit: 0 }, throwHttpErrors: false });
    emulator.resetStats();
    try {
      const result = await drive(async (user) => {
        const response = await client.get(`${emulator.url}/users/${encodeURIComponent(user)}/receipts`, { context: { scope: user } });
        return {
          status: response.statusCode,
          answeredFor: (JSON.parse(response.body) as { user?: unknown }).user,
          authorization: response.request.options.headers.authorization as string | undefined,
        };
      });
      expectIsolated(result);
    } finally {
      agent.destroy();
      await within(5_000, manager.close());
    }
  }, PHASE_TIMEOUT_MS);

  it('through fetch (authFetch): every request reaches its own user, no wrong-user 401', async () => {
    const manager = fastManager();
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
        const { user: answeredFor } = (await response.json()) as { user?: unknown };
        return { status: response.status, answeredFor, authorization: sentWith.get(response) };
      });
      expectIsolated(result);
    } finally {
      await within(5_000, manager.close());
    }
  }, PHASE_TIMEOUT_MS);
});
