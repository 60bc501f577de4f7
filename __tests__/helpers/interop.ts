/**
 * What the interop tests share: a fake clock that the in-process servers, the manager and got all
 * read (real I/O runs while fake time stands still, so counts are deterministic), and a driver
 * that asks for every user's token at each step of fake time.
 */
import { jest } from '@jest/globals';
import type { TokenManager } from '../../lib/index.js';
import { whenIdle } from '../fixtures/manager-harness.js';

/** Fakes timers and Date from a whole second; Node's task queues stay real. */
export function useInteropClock(): void {
  jest.useFakeTimers({ now: 1_700_000_000_000, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
}

/** `n` user ids. */
export function userIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `user-${i}`);
}

/** Waits for the manager's requests, then moves fake time by `ms` and waits for what that started. */
export async function step(m: TokenManager, ms: number): Promise<void> {
  await whenIdle(m);
  await jest.advanceTimersByTimeAsync(ms);
  await whenIdle(m);
}

/** GETs `url` with `accessToken` and returns the status. */
export async function apiStatus(url: string, accessToken: string): Promise<number> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${accessToken}` } });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Every `stepMs` of fake time for `durationMs`: every user asks for a token; once a second the
 * server's API (`apiUrl/users/<id>`) is asked to accept each; then time moves on. Counts the
 * failed getToken calls and the API's refusals.
 */
export async function serveEveryUser(m: TokenManager, ids: string[], durationMs: number, apiUrl: string, stepMs = 100) {
  let failed = 0;
  let refused = 0;
  let calls = 0;
  for (let t = 0; t <= durationMs; t += stepMs) {
    const outcomes = await Promise.allSettled(ids.map((id) => m.getToken(id)));
    calls += outcomes.length;
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'rejected') failed++;
      else if (t % 1_000 === 0 && (await apiStatus(`${apiUrl}/users/${ids[i]!}`, outcome.value.accessToken)) !== 200) refused++;
    }
    await step(m, stepMs);
  }
  return { failed, refused, calls };
}
