/**
 * The fault matrix: every token-endpoint fault of the emulator against a live TokenManager over
 * real loopback HTTP. Each ends in recovery (a cached token keeps being served while the background
 * renewal fails) or in the typed error with its `code`, with no unhandled rejection, no hot retry
 * loop (the emulator counts every request) and no hang (every await is bounded).
 * See helpers/fault-matrix.ts for the two scenarios each fault is played in.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator, TOKEN_FAULTS, type Emulator } from '../lib/emulator/index.js';
import { TokenEndpointError, TokenManager } from '../lib/index.js';
import { ManualClock } from './fixtures/manual-clock.js';
import {
  COOLDOWN_MS,
  EXPIRES_IN,
  FAULT_CASES,
  RETRY_AFTER_SECONDS,
  coldFault,
  warmFault,
  type MatrixTarget,
} from './helpers/fault-matrix.js';
import { failOnUnhandledRejections, rejectionOf, within } from './helpers/reliability.js';

failOnUnhandledRejections();

let emulator: Emulator;
let target: MatrixTarget;

beforeAll(async () => {
  emulator = await startEmulator({ expiresIn: EXPIRES_IN, retryAfterSeconds: RETRY_AFTER_SECONDS });
  target = { emulator, tokenUrl: emulator.tokenUrl, clientSecret: emulator.clientSecret };
});

afterAll(async () => {
  await emulator.close();
});

it('the matrix covers every fault mode of the emulator', () => {
  expect(FAULT_CASES.map((c) => c.mode).sort()).toEqual(TOKEN_FAULTS.filter((m) => m !== 'none').sort());
});

describe('a cold scope gets the typed error, after at most retry + 1 requests, then cools down and recovers', () => {
  it.each(FAULT_CASES.map((c) => [c.mode, c] as const))("'%s'", async (_mode, c) => {
    await coldFault(target, c);
  });
});

describe('a cached token keeps being served while its background renewal fails, then renews', () => {
  it.each(FAULT_CASES.map((c) => [c.mode, c] as const))("'%s'", async (_mode, c) => {
    await warmFault(target, c);
  });
});

describe('an outage longer than one attempt', () => {
  it('callers of many cold scopes share one probe per scope at a time inside the cool-down: no retry storm', async () => {
    const clock = new ManualClock();
    const manager = new TokenManager({
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tokenUrl: emulator.tokenUrl,
      request: { retry: 0 },
      clock: { now: clock.now, timers: clock.timers },
      cooldown: { base: COOLDOWN_MS },
    });
    try {
      emulator.resetStats();
      emulator.setFault('500');
      const scopes = Array.from({ length: 20 }, (_, i) => `outage-${i}`);
      // 20 scopes × 10 callers each, three rounds inside the cool-down: each round, the 10 callers
      // of a scope share one request (the first round's, then one probe per round).
      for (let round = 0; round < 3; round++) {
        const calls = scopes.flatMap((scope) => Array.from({ length: 10 }, () => manager.getToken(scope)));
        const errors = await within(10_000, Promise.all(calls.map((call) => rejectionOf(call))));
        for (const error of errors) expect(error).toBeInstanceOf(TokenEndpointError);
        clock.advance(COOLDOWN_MS / 4);
      }
      expect(emulator.stats().tokenCalls.total).toBe(3 * scopes.length);
    } finally {
      emulator.setFault('none');
      await within(5_000, manager.close());
    }
  });
});

describe('Retry-After of a background renewal', () => {
  // Was a bug: the background retry used the manager's own backoff (500 ms here), whatever
  // Retry-After said. A foreground failure honours it through the cool-down (the cold '429' case).
  it('a background renewal refused with 429 is not retried before Retry-After has elapsed', async () => {
    const clock = new ManualClock();
    const manager = new TokenManager({
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tokenUrl: emulator.tokenUrl,
      request: { retry: 0 },
      clock: { now: clock.now, timers: clock.timers, random: () => 0 },
    });
    try {
      const first = await within(5_000, manager.getToken('retry-after'));
      clock.advanceTo(first.expiresAt - 5 * 60_000);
      emulator.setFault('429', { count: 1 });
      emulator.resetStats();
      const failed = new Promise<{ retryAt?: number }>((resolve) => manager.once('refreshFailed', resolve));
      expect(await within(5_000, manager.getToken('retry-after'))).toBe(first);
      const event = await within(5_000, failed);
      const failedAt = clock.now();
      expect(event.retryAt).toBeGreaterThanOrEqual(failedAt + RETRY_AFTER_SECONDS * 1000);
      // A renewal starts synchronously when its timer fires: none may start before Retry-After ends.
      clock.advanceTo(failedAt + RETRY_AFTER_SECONDS * 1000 - 1);
      expect(manager.stats().inFlight).toBe(0);
    } finally {
      emulator.setFault('none');
      await within(5_000, manager.close());
    }
  });
});
