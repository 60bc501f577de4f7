// Fixtures for the TokenEndpoint unit tests: secret-looking credentials, a nock stand-in for Flux's
// token endpoint that records every request it receives, fake-timer helpers that keep nock's real
// timers and the fake clock in step, a gzip JWS builder, and a loopback server that never answers.
import { jest } from '@jest/globals';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { clearInterval as clearRealInterval, setInterval as realInterval } from 'node:timers';
import { setImmediate as realImmediate, setTimeout as realTimeout } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import nock from 'nock';
import { DEFAULT_TOKEN_URL, TokenEndpoint, type TokenEndpointOptions } from '../../lib/index.js';

/** Looks like a live client secret, so that a leak would look like one too. */
export const CLIENT_ID = 'flux-client-4b1d';
export const CLIENT_SECRET = 'cs_live_9f8e7d6c5b4a3f2e1d0c';

/** A fixed start for the injected and the fake clock: a whole second, so second arithmetic is exact. */
export const T0 = 1_700_000_000_000;

/**
 * The test client's endpoint: no retries and the clock fixed at T0, unless `options` say otherwise
 * (inside `request` and `clock`, each name given replaces only itself).
 */
export function testEndpoint(options: Partial<TokenEndpointOptions> = {}): TokenEndpoint {
  return new TokenEndpoint({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...options,
    request: { retry: 0, ...options.request },
    clock: { now: () => T0, ...options.clock },
  });
}

const defaultUrl = new URL(DEFAULT_TOKEN_URL);
export const ORIGIN = defaultUrl.origin;
export const PATH = defaultUrl.pathname;

/** One request as the nock endpoint received it. */
export interface ReceivedRequest {
  /** Request headers, lower-cased names. */
  headers: IncomingHttpHeaders;
  /** The body exactly as it went over the wire. */
  rawBody: string;
  /** The body decoded as application/x-www-form-urlencoded. */
  form: Record<string, string>;
  /** `Date.now()` when the request arrived (the fake clock, under fake timers). */
  at: number;
}

/** What the nock endpoint answers to one request. */
export type Answer =
  | { status: number; body?: string | Record<string, unknown> | unknown[]; headers?: Record<string, string> }
  | { networkError: string };

/**
 * Answers nock has started but not finished sending. nock sends them on real timers, which fake
 * timers do not drive, so fake time must stand still until they are through; see {@link settleIo}.
 */
let answersInFlight = 0;

/** A gzip-compressed JWS with a `jti` only, as Flux shapes its tokens. */
const SAMPLE_ACCESS_TOKEN = [
  Buffer.from(JSON.stringify({ alg: 'RS256', zip: 'GZIP' })).toString('base64url'),
  gzipSync(Buffer.from(JSON.stringify({ jti: 'sample' }))).toString('base64url'),
  Buffer.from('signature').toString('base64url'),
].join('.');

/** A successful token answer, shaped like the seed's. */
export function tokenBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    // A readable Flux-shaped JWS, not bound to a user (a JWS that cannot be read is refused).
    access_token: SAMPLE_ACCESS_TOKEN,
    refresh_token: 'rt+new/rotated==',
    token_type: 'bearer',
    expires_in: 3600,
    ...overrides,
  };
}

/**
 * Mocks the token endpoint. `answers` is one answer for every request, or a list whose last entry
 * repeats. Every request is recorded, whatever the answer, so that tests can count them.
 */
export function mockTokenEndpoint(
  answers: Answer | Answer[],
  { origin = ORIGIN, path = PATH, onRequest }: { origin?: string; path?: string; onRequest?: (n: number) => void } = {},
): { requests: ReceivedRequest[]; scope: nock.Scope } {
  const list = Array.isArray(answers) ? answers : [answers];
  const requests: ReceivedRequest[] = [];
  const scope = nock(origin)
    .persist()
    .post(path)
    .reply(function (_uri, body, callback) {
      const rawBody = typeof body === 'string' ? body : JSON.stringify(body);
      const n = requests.length;
      requests.push({
        headers: { ...this.req.headers },
        rawBody,
        form: Object.fromEntries(new URLSearchParams(rawBody)),
        at: Date.now(),
      });
      onRequest?.(n);
      const answer = list[Math.min(n, list.length - 1)]!;
      if ('networkError' in answer) {
        callback(Object.assign(new Error(`simulated ${answer.networkError}`), { code: answer.networkError }), [0, '']);
        return;
      }
      const payload =
        answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      const headers = {
        'content-type': typeof answer.body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
        ...answer.headers,
      };
      answersInFlight += 1;
      callback(null, [answer.status, payload, headers]);
    });
  scope.on('replied', () => {
    answersInFlight -= 1;
  });
  return { requests, scope };
}

/** Fake timers for the endpoint: the clock starts at {@link T0}; Node's task queues stay real. */
export function useFakeClock(): void {
  answersInFlight = 0;
  jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'queueMicrotask'] });
}

/**
 * Lets real I/O finish: nock answers on real timers, and got then reads the answer over a few real
 * turns of the event loop. Bounded, so that a stuck answer fails the test instead of hanging it.
 */
export async function settleIo(): Promise<void> {
  for (let waited = 0; ; waited += 1) {
    for (let i = 0; i < 5; i += 1) await realImmediate();
    if (answersInFlight <= 0) return;
    if (waited > 2_000) throw new Error('a nock answer did not complete');
    await realTimeout(1);
  }
}

/**
 * Under fake timers: lets real I/O settle, then moves the fake clock by `ms`. Without the first
 * part the fake clock races ahead of nock's answer, and got's fake-timed per-attempt timeout fires
 * before the answer arrives.
 */
export async function tick(ms: number): Promise<void> {
  await settleIo();
  await jest.advanceTimersByTimeAsync(ms);
  await settleIo();
}

/** The settled state of a promise, readable at any moment without awaiting it. */
export interface Outcome<T> {
  settled: boolean;
  value?: T;
  error?: unknown;
  /** Resolves once the promise has settled, either way. */
  done: Promise<void>;
}

/** Tracks a promise so that a test can check whether it has settled yet. */
export function track<T>(promise: Promise<T>): Outcome<T> {
  const outcome: Outcome<T> = { settled: false, done: Promise.resolve() };
  outcome.done = promise.then(
    (value) => {
      outcome.settled = true;
      outcome.value = value;
    },
    (error: unknown) => {
      outcome.settled = true;
      outcome.error = error;
    },
  );
  return outcome;
}

async function settleUnderFakeTimers<T>(promise: Promise<T>, step: number, maxMs: number): Promise<Outcome<T>> {
  const outcome = track(promise);
  for (let elapsed = 0; !outcome.settled; elapsed += step) {
    if (elapsed > maxMs) throw new Error(`still pending after ${maxMs} ms of fake time`);
    await tick(step);
  }
  return outcome;
}

/** Under fake timers: advances the clock in steps until `promise` rejects, and returns the error. */
export async function rejectionUnderFakeTimers(promise: Promise<unknown>, { step = 100, maxMs = 5 * 60_000 } = {}): Promise<unknown> {
  const outcome = await settleUnderFakeTimers(promise, step, maxMs);
  if (!('error' in outcome)) throw new Error('expected a rejection, got a resolution');
  return outcome.error;
}

/** Under fake timers: advances the clock in steps until `promise` resolves, and returns the value. */
export async function valueUnderFakeTimers<T>(promise: Promise<T>, { step = 100, maxMs = 5 * 60_000 } = {}): Promise<T> {
  const outcome = await settleUnderFakeTimers(promise, step, maxMs);
  if ('error' in outcome) throw outcome.error;
  return outcome.value as T;
}

/** Under fake timers: advances in steps until `condition` holds. Bounded. */
export async function advanceUntil(condition: () => boolean, { step = 1, maxMs = 10_000 } = {}): Promise<void> {
  await settleIo();
  for (let elapsed = 0; !condition(); elapsed += step) {
    if (elapsed > maxMs) throw new Error(`condition not met after ${maxMs} ms of fake time`);
    await tick(step);
  }
}

/** A JWS whose payload is base64url of gzip-compressed JSON, as Flux issues them. Not signed. */
export function gzipJws(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', zip: 'GZIP' }): string {
  return [
    Buffer.from(JSON.stringify(header)).toString('base64url'),
    gzipSync(Buffer.from(JSON.stringify(claims))).toString('base64url'),
    Buffer.from('not-a-real-signature').toString('base64url'),
  ].join('.');
}

/**
 * A server on 127.0.0.1 that reads requests and never answers, for timeouts and aborts over a real
 * socket. `received` counts the requests whose headers arrived.
 */
export async function startSilentServer(): Promise<{
  url: string;
  received: () => number;
  untilReceived: (n: number) => Promise<void>;
  close: () => Promise<void>;
}> {
  let count = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const sockets = new Set<Socket>();
  const server = createServer(() => {
    count += 1;
    for (const waiter of waiters.filter((w) => w.n <= count)) waiter.resolve();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/auth/oauth/token`,
    received: () => count,
    untilReceived: (n) => (count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A server on 127.0.0.1 that answers 200 with headers and the start of a JSON body at once, then
 * one more byte every `everyMs` (on real timers), never the end: a slow-loris answer. The
 * connection is never idle, so only a timeout on the whole request can end it.
 */
export async function startTricklingServer(everyMs = 20): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
    res.write('{"access_token":"');
    const drip = realInterval(() => res.write('a'), everyMs);
    res.on('close', () => clearRealInterval(drip));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/auth/oauth/token`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
