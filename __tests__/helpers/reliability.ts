/**
 * Shared tools of the reliability suite (`__tests__/reliability.*.test.ts`): a guard that fails a
 * file on any unhandled rejection, bounded waits, and a by-type count of the handles that keep the
 * process alive.
 *
 * Jest gives each test file a *copy* of `process`, whose listeners never hear the host process's
 * events; `vm.runInThisContext` evaluates in the host's main context, so it reaches the real one.
 */
import { afterAll, afterEach, beforeAll, expect } from '@jest/globals';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { runInThisContext } from 'node:vm';

/** The real process object, not jest's per-file copy. */
export const hostProcess = runInThisContext('process') as NodeJS.Process;

/**
 * Installs an `unhandledRejection` (and `uncaughtException`) listener on the real process for the
 * whole file, and fails the test during or after which one occurred. Jest already fails a test on
 * an unhandled rejection; this also catches one that surfaces between tests and names it.
 */
export function failOnUnhandledRejections(): { seen: unknown[] } {
  const state = { seen: [] as unknown[] };
  const onRejection = (reason: unknown) => state.seen.push(reason);
  beforeAll(() => {
    hostProcess.on('unhandledRejection', onRejection);
    hostProcess.on('uncaughtException', onRejection);
  });
  afterEach(async () => {
    // Node reports an unhandled rejection after the microtask queue drains: give it two turns.
    await nextTurn();
    await nextTurn();
    const seen = state.seen.splice(0);
    expect(seen).toEqual([]);
  });
  afterAll(() => {
    hostProcess.off('unhandledRejection', onRejection);
    hostProcess.off('uncaughtException', onRejection);
  });
  return state;
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms` (real time). */
export async function within<T>(ms: number, promise: Promise<T>, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a promise settled, readable without try/catch. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Waits (at most `ms`) for `promise` and reports how it settled. */
export function settle<T>(promise: Promise<T>, ms = 10_000, what?: string): Promise<Settled<T>> {
  return within(
    ms,
    promise.then(
      (value): Settled<T> => ({ ok: true, value }),
      (error: unknown): Settled<T> => ({ ok: false, error }),
    ),
    what,
  );
}

/** The rejection of `promise` (bounded); fails if it resolves. */
export async function rejectionOf(promise: Promise<unknown>, ms = 10_000, what?: string): Promise<unknown> {
  const outcome = await settle(promise, ms, what);
  if (outcome.ok) throw new Error(`expected ${what ?? 'the call'} to reject, but it resolved`);
  return outcome.error;
}

/**
 * Resolves once `condition()` holds; rejects after `timeoutMs`. For a count or a state that another
 * party changes (a server's counters, the set of open handles), never to let time pass.
 */
export async function waitUntil(condition: () => boolean, { timeoutMs = 5_000, what = 'the condition' } = {}): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let turn = 0; !condition(); turn++) {
    if (performance.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    // Spin on event-loop turns first (cheap, and I/O proceeds), then back off to 2 ms polls.
    await (turn < 50 ? nextTurn() : delay(2));
  }
}

/** The handle types that matter for a leak: sockets, servers and timers. */
export const LEAK_TYPES = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const;

/** The ref'd handles keeping the real process alive, counted by type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of hostProcess.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** The types (of {@link LEAK_TYPES}) of which more are open now than in `baseline`. */
export function resourcesAbove(baseline: Record<string, number>): Record<string, number> {
  const now = activeResources();
  const extra: Record<string, number> = {};
  for (const type of LEAK_TYPES) {
    const diff = (now[type] ?? 0) - (baseline[type] ?? 0);
    if (diff > 0) extra[type] = diff;
  }
  return extra;
}

/** Waits (bounded) until no more sockets, servers or timers are open than in `baseline`. */
export async function expectNoResourcesAbove(baseline: Record<string, number>, timeoutMs = 3_000): Promise<void> {
  try {
    await waitUntil(() => Object.keys(resourcesAbove(baseline)).length === 0, { timeoutMs, what: 'the handle count' });
  } catch {
    // Report what is left, rather than a timeout.
  }
  expect(resourcesAbove(baseline)).toEqual({});
}
