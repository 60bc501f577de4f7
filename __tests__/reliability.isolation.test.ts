/**
 * Scope isolation under load: 50 users × 8 concurrent requests each, through got (gotAuth) and
 * through fetch (authFetch), against the emulator's per-user API, with tokens renewed while
 * requests are in flight. The emulator checks every request's token against the user in its path:
 * it must count no wrong-user (nor unknown, nor missing) 401, and every request must end in a 200
 * for its own user. On the client side, no access token is ever sent for two users.
 *
 * The emulator and the manager share one manual clock, which moves once, by a count: when half of
 * the 800 requests have been answered and every user has its first token, it moves into the
 * tokens' refresh window (before their margin), so the requests still to come start renewals (the refresh grant) while the others are
 * in flight. However long requests queue on a busy CPU, no token expires while they do. At the
 * end, each user sends one request (which starts the renewal of a user that had none left) and,
 * once every renewal is done, one more, on its renewed token.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import got from 'got';
import { Agent } from 'node:http';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { authFetch, TokenManager } from '../lib/index.js';
import { gotAuth } from '../lib/http/got.js';
import { ManualClock } from './fixtures/manual-clock.js';
import { whenIdle } from './fixtures/manager-harness.js';
import { failOnUnhandledRejections, within } from './helpers/reliability.js';

failOnUnhandledRejections();

const USERS = 50;
const CONCURRENCY_PER_USER = 8;
/** Requests each loop sends one after another. */
const ROUNDS = 2;
/** Token lifetime in seconds. The manager renews it from 3–3.1 s on, and hands it out until 3.6 s. */
const EXPIRES_IN = 4;
/** How far the clock moves halfway through: inside every token's refresh window, before its margin. */
const INTO_REFRESH_WINDOW_MS = 3_300;
/** A bound on each phase, in real time, only in case something hangs: on a busy machine a phase takes minutes. */
const PHASE_TIMEOUT_MS = 240_000;
/**
 * Connections to the emulator at once. The 400 callers all wait for tokens at once; their HTTP
 * requests queue on the client, since hundreds of sockets at once can overflow the server's accept backlog
 * on a busy machine, and the kernel then resets connections (ECONNRESET).
 */
const MAX_CONNECTIONS = 64;
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
 * Runs CONCURRENCY_PER_USER loops per user, all at once, each sending ROUNDS requests in turn;
 * `halfway` runs once half of them, and at least one per user, have been answered. Then, per
 * user, one request, `settle`, and one more request.
 */
async function drive(send: (user: string) => Promise<Sent>, halfway: () => void, settle: () => Promise<void>): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, ok: 0, failures: [], usersOfToken: new Map(), tokensOfUser: new Map() };
  const record = (user: string, authorization: string) => {
    if (!result.usersOfToken.has(authorization)) result.usersOfToken.set(authorization, new Set());
    result.usersOfToken.get(authorization)!.add(user);
    if (!result.tokensOfUser.has(user)) result.tokensOfUser.set(user, new Set());
    result.tokensOfUser.get(user)!.add(authorization);
  };
  let answered = 0;
  const answeredUsers = new Set<string>();
  let movedClock = false;
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
    answered++;
    answeredUsers.add(user);
    // Once, when half are answered and every user has its first token (so that every token was
    // issued before the clock moves, and is inside its window after).
    if (!movedClock && answered >= (USERS * CONCURRENCY_PER_USER * ROUNDS) / 2 && answeredUsers.size === USERS) {
      movedClock = true;
      halfway();
    }
  };
  const loop = async (user: string) => {
    for (let round = 0; round < ROUNDS; round++) await once(user);
  };
  const all = async () => {
    await Promise.all(USER_IDS.flatMap((user) => Array.from({ length: CONCURRENCY_PER_USER }, () => loop(user))));
    await Promise.all(USER_IDS.map(once));
    await settle();
    await Promise.all(USER_IDS.map(once));
  };
  await within(PHASE_TIMEOUT_MS - 10_000, all(), 'the load');
  return result;
}

/** At most `size` calls of `run` at once; the others wait in order. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** fetch, sending a request once more when the overloaded server reset its connection (as for got). */
async function fetchResending(input: RequestInfo | URL, init: RequestInit | undefined): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(input instanceof Request ? input.clone() : input, init);
    } catch (error) {
      const code = ((error as { cause?: { code?: unknown } }).cause ?? {}).code;
      if (code !== 'ECONNRESET' || attempt === 3) throw error;
    }
  }
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
    // Token requests share the emulator with hundreds of API requests: let more of them through at once.
    concurrency: 32,
    // However long a token request queues on a busy CPU, it must not be given up and sent again:
    // with strict rotation a resent refresh token is refused. A hang still fails the phase.
    request: { timeout: PHASE_TIMEOUT_MS },
    clock: { now: clock.now, timers: clock.timers },
  });
}

/** Halfway: into the refresh window, where scheduled renewals start at once. */
const intoRefreshWindow = () => clock.advance(INTO_REFRESH_WINDOW_MS);

function expectIsolated(result: LoadResult): void {
  const stats = emulator.stats();
  expect(result.failures.slice(0, 10)).toEqual([]);
  expect(result.sent).toBe(USERS * CONCURRENCY_PER_USER * ROUNDS + 2 * USERS);
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
    const agent = new Agent({ keepAlive: true, maxSockets: MAX_CONNECTIONS });
    // A connection the overloaded server reset is sent again (no status is ever retried): what is
    // checked here is which token each request carried, not the transport.
    const client = got.extend(gotAuth(manager), {
      agent: { http: agent },
      retry: { limit: 2, statusCodes: [], errorCodes: ['ECONNRESET'] },
      throwHttpErrors: false,
    });
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
      }, intoRefreshWindow, () => whenIdle(manager));
      expectIsolated(result);
    } finally {
      agent.destroy();
      await within(5_000, manager.close());
    }
  }, PHASE_TIMEOUT_MS);

  it('through fetch (authFetch): every request reaches its own user, no wrong-user 401', async () => {
    const manager = manualManager();
    const connections = new Slots(MAX_CONNECTIONS);
    /** The Authorization header each response's request carried, as handed to fetch. */
    const sentWith = new WeakMap<Response, string | null>();
    const fetchAs = authFetch(manager, {
      scope: (request) => decodeURIComponent(new URL(request.url).pathname.split('/')[2]!),
      fetch: async (input, init) => {
        const authorization = (input as Request).headers.get('authorization');
        const response = await connections.run(() => fetchResending(input, init));
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
      }, intoRefreshWindow, () => whenIdle(manager));
      expectIsolated(result);
    } finally {
      await within(5_000, manager.close());
    }
  }, PHASE_TIMEOUT_MS);
});
