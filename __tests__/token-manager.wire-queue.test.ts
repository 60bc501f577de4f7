/**
 * The queue admits attempts on the wire, and nothing else: the wait between two attempts of a
 * request (a backoff, a `Retry-After`) holds no slot, so a caller who needs a token while other
 * requests wait to be retried is served by one request of its own. Driven by jest's fake timers:
 * the waits never end unless the test advances them.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { TokenManagerClosedError } from '../lib/shared/errors.js';
import { WireQueue } from '../lib/manager/wire-queue.js';
import { hasSettled, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

const RETRY_LATER = { status: 503, headers: { 'retry-after': '10' }, body: { error: 'temporarily_unavailable' } };

describe('the wait before a retry holds no slot', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
    jest.useRealTimers();
  });

  it('a cold caller is served by its own request while 8 requests wait out a Retry-After, and their retries come after it', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    h = await startHarness({ request: { retry: 1 } }); // concurrency 8, the default
    const { server, manager } = h;
    const users = Array.from({ length: 8 }, (_, i) => `slow-${i}`);
    server.failNext(8, RETRY_LATER);
    const slow = users.map((user) => manager.getToken(user));
    await server.waitForRequests(8);

    // Every slot's first attempt was answered "retry in 10 s"; the timers stand still.
    const token = await manager.getToken('cold');
    expect(scopeOfTestToken(token.accessToken)).toBe('cold');
    expect(server.requests.map((r) => r.scope)).toEqual([...users, 'cold']);
    expect(manager.stats().inFlight).toBe(8);

    await jest.advanceTimersByTimeAsync(10_000);
    const tokens = await Promise.all(slow);
    expect(tokens.map((t) => scopeOfTestToken(t.accessToken))).toEqual(users);
    expect(server.requests).toHaveLength(17);
    expect(server.requests.slice(9).map((r) => r.scope).sort()).toEqual([...users].sort());
  });

  it('a backoff (no Retry-After) holds no slot either: with one slot, a caller goes between two attempts of another request', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    h = await startHarness({ request: { retry: 1 }, concurrency: 1 });
    const { server, manager } = h;
    server.failNext(1, { status: 503, body: { error: 'temporarily_unavailable' } });
    const slow = manager.getToken('slow');
    await server.waitForRequests(1);

    const token = await manager.getToken('cold');
    expect(scopeOfTestToken(token.accessToken)).toBe('cold');
    expect(server.requests.map((r) => r.scope)).toEqual(['slow', 'cold']);

    await jest.advanceTimersByTimeAsync(10_000); // past the longest first backoff
    expect(scopeOfTestToken((await slow).accessToken)).toBe('slow');
    expect(server.requests.map((r) => r.scope)).toEqual(['slow', 'cold', 'slow']);
  });

  it('counts each attempt against rateLimit: a retry is a request the endpoint sees', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    h = await startHarness({ request: { retry: 1 }, rateLimit: { limit: 2, interval: 60_000 } });
    const { server, manager } = h;
    server.failNext(1, { status: 503, headers: { 'retry-after': '1' }, body: { error: 'temporarily_unavailable' } });
    const first = manager.getToken('a'); // answered 503, retried after 1 s
    await server.waitForRequests(1);
    const second = manager.getToken('b');
    await second;
    await jest.advanceTimersByTimeAsync(1_000);
    // The retry of `a` would be the third request in the interval: it waits for the next one.
    expect(await hasSettled(server.waitForRequests(3), 20)).toBe(false);
    expect(server.requests.map((r) => r.scope)).toEqual(['a', 'b']);
    await jest.advanceTimersByTimeAsync(60_000);
    await first;
    expect(server.requests.map((r) => r.scope)).toEqual(['a', 'b', 'a']);
  });
});

describe('WireQueue', () => {
  it('admits callers’ attempts before background ones at every admission, and moves a raised one ahead', async () => {
    const queue = new WireQueue({ concurrency: 1, intervalCap: Number.POSITIVE_INFINITY, interval: 0 });
    const order: string[] = [];
    let release!: () => void;
    const blocker = queue.admit({ background: false }, () => new Promise<void>((resolve) => (release = resolve)));
    const bg1 = { background: true, queued: undefined as string | undefined };
    const bg2 = { background: true, queued: undefined as string | undefined };
    const runs = [
      queue.admit(bg1, async () => void order.push('bg-1')),
      queue.admit(bg2, async () => void order.push('bg-2')),
      queue.admit({ background: false }, async () => void order.push('caller')),
    ];
    (bg2 as { background: boolean }).background = false;
    queue.raise(bg2);
    release();
    await Promise.all([blocker, ...runs]);
    expect(order).toEqual(['caller', 'bg-2', 'bg-1']);
  });

  it('ends the attempts waiting for a slot unsent on drop, and refuses later ones', async () => {
    const queue = new WireQueue({ concurrency: 1, intervalCap: Number.POSITIVE_INFINITY, interval: 0 });
    let release!: () => void;
    const sent: string[] = [];
    const running = queue.admit({ background: false }, () => new Promise<void>((resolve) => (release = resolve)));
    const waiting = queue.admit({ background: false }, async () => void sent.push('waiting'));
    queue.drop();
    await expect(waiting).rejects.toBeInstanceOf(TokenManagerClosedError);
    await expect(queue.admit({ background: false }, async () => void sent.push('later'))).rejects.toBeInstanceOf(TokenManagerClosedError);
    release();
    await running;
    await queue.onIdle();
    expect(sent).toEqual([]);
  });

  it('holds at most `concurrency` reservations, callers first; one ends when its attempt starts, or unused, once', async () => {
    const queue = new WireQueue({ concurrency: 1, intervalCap: Number.POSITIVE_INFINITY, interval: 0 });
    type R = { background: boolean; reserved?: (() => void) | undefined };
    const holder: R = { background: false };
    const order: string[] = [];
    await queue.reserve(holder);
    const background: R = { background: true };
    const caller: R = { background: false };
    void queue.reserve(background).then(() => order.push('background'));
    void queue.reserve(caller).then(() => order.push('caller'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]); // the one reservation is held

    // The holder's attempt starts: its reservation ends, and the caller's renewal gets the next.
    let release!: () => void;
    const sent = queue.admit(holder, () => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['caller']);
    expect(holder.reserved).toBeUndefined();

    // Ended unused (a lock another process holds): the background renewal's turn; twice is once.
    caller.reserved!();
    caller.reserved?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['caller', 'background']);
    release();
    await sent;
  });

  it('ends waiting reservations on drop', async () => {
    const queue = new WireQueue({ concurrency: 1, intervalCap: Number.POSITIVE_INFINITY, interval: 0 });
    await queue.reserve({ background: false });
    const waiting = queue.reserve({ background: true });
    queue.drop();
    await expect(waiting).rejects.toBeInstanceOf(TokenManagerClosedError);
    await expect(queue.reserve({ background: false })).rejects.toBeInstanceOf(TokenManagerClosedError);
  });
});
