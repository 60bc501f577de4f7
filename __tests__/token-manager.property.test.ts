/**
 * Property: whatever the interleaving of getToken, invalidate, clock advances (which run the
 * scheduled refreshes) and endpoint failures, over scopes that include the awkward ones, a caller
 * is never handed a token issued for another scope, never one past its expiry margin, and never
 * one it invalidated before asking; and every failure is one of the library's typed errors.
 *
 * Each run drives a fresh manager with a manual clock and manual timers against the scripted token
 * server. Commands between two `settle` steps run synchronously, so the clock never moves while a
 * request is on the wire, and the outcome does not depend on I/O timing.
 */
import { describe, it } from '@jest/globals';
import fc from 'fast-check';
import { FluxTokenError } from '../lib/shared/errors.js';
import { DEFAULT_EXPIRY_MARGIN_MS, DEFAULT_REFRESH_JITTER, DEFAULT_REFRESH_WINDOW_MS, usableUntil } from '../lib/manager/expiry.js';
import type { Token } from '../lib/endpoint/token.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { whenIdle } from './fixtures/manager-harness.js';
import { ManualClock } from './fixtures/manual-clock.js';
import { scopeOfTestToken, startTokenServer, type ScriptedAnswer } from './helpers/scripted-token-server.js';

const SCOPES = [undefined, '__proto__', 'undefined', 'constructor', 'user-1', 'user/2+&=?'] as const;
type Scope = (typeof SCOPES)[number];
const POLICY = { expiryMarginMs: DEFAULT_EXPIRY_MARGIN_MS, refreshWindowMs: DEFAULT_REFRESH_WINDOW_MS, jitter: DEFAULT_REFRESH_JITTER };
const FAILURES: ScriptedAnswer[] = [
  { status: 503, body: { error: 'temporarily_unavailable' } },
  { status: 400, body: { error: 'invalid_grant' } },
  { status: 401, body: { error: 'invalid_client' } },
  { status: 500, raw: '<html>oops</html>', headers: { 'content-type': 'text/html' } },
  { status: 200, body: { access_token: 42, token_type: 'bearer' } },
  { status: 429, body: {}, headers: { 'retry-after': '2' } },
];
const show = (scope: string | undefined) => (scope === undefined ? '(client-wide)' : JSON.stringify(scope));
const TYPED_CODES = new Set(['FLUX_TOKEN_ENDPOINT', 'FLUX_TOKEN_REQUEST', 'FLUX_INVALID_TOKEN_RESPONSE']);

type Command =
  | { kind: 'get'; scope: number }
  | { kind: 'invalidate'; scope: number; pick: number; asString: boolean }
  | { kind: 'advance'; ms: number }
  | { kind: 'advanceLifetime'; fraction: number; offsetMs: number }
  | { kind: 'fail'; count: number; answer: number }
  | { kind: 'lifetime'; seconds: number }
  | { kind: 'settle' };

const scopeIndex = fc.nat({ max: SCOPES.length - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('get' as const), scope: scopeIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('invalidate' as const), scope: scopeIndex, pick: fc.nat(), asString: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 30_000 }),
        fc.integer({ min: 0, max: 400_000 }),
        fc.integer({ min: 3_000_000, max: 3_600_000 }),
      ),
    }),
  },
  {
    // Relative to the token lifetime, so that the clock often lands near the window or the margin.
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advanceLifetime' as const),
      fraction: fc.constantFrom(0.25, 0.5, 0.75, 0.8, 0.9, 0.95, 0.99, 1),
      offsetMs: fc.integer({ min: -1_000, max: 1_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fail' as const), count: fc.integer({ min: 1, max: 3 }), answer: fc.nat({ max: FAILURES.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lifetime' as const), seconds: fc.constantFrom(1, 20, 600, 3600) }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'settle' as const }) },
);

async function run(commands: Command[], jitterSeed: number, lifetime: number): Promise<void> {
  const server = await startTokenServer({ expiresIn: lifetime });
  const clock = new ManualClock();
  let seed = jitterSeed;
  const manager = new TokenManager({
    clientId: 'client-1',
    clientSecret: 'secret-1',
    tokenUrl: server.tokenUrl,
    request: { retry: 0 },
    clock: {
      now: clock.now,
      timers: clock.timers,
      random: () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31),
    },
    // One request at a time: the scripted failures then meet the requests in a fixed order.
    concurrency: 1,
  });
  const violations: string[] = [];
  const pending: Promise<unknown>[] = [];
  const obtained: Token[] = [];
  /** Access tokens invalidated per scope index, with the number of calls made before. */
  const invalidated: { scope: number; accessToken: string; afterCall: number }[] = [];
  let callCount = 0;

  const check = (call: number, scope: Scope, scopeIdx: number, token: Token, at: number) => {
    let issuedFor: string | undefined;
    try {
      issuedFor = scopeOfTestToken(token.accessToken);
    } catch {
      violations.push(`call ${call}: not a token of the test server`);
      return;
    }
    if (issuedFor !== scope) violations.push(`call ${call} for ${show(scope)} got a token issued for ${show(issuedFor)}`);
    if (at >= usableUntil(token, POLICY)) violations.push(`call ${call} for ${show(scope)} got a token past its margin at ${at}`);
    for (const i of invalidated) {
      if (i.scope === scopeIdx && i.accessToken === token.accessToken && call >= i.afterCall) {
        violations.push(`call ${call} for ${show(scope)} got back a token invalidated before it asked`);
      }
    }
    obtained.push(token);
  };

  try {
    for (const cmd of commands) {
      switch (cmd.kind) {
        case 'get': {
          const scope = SCOPES[cmd.scope];
          const call = callCount++;
          const hitsBefore = manager.stats().hits;
          const calledAt = clock.now();
          const promise = manager.getToken(scope);
          // A cached answer was handed out now; a waited-for one when it settles.
          const hit = manager.stats().hits > hitsBefore;
          pending.push(
            promise.then(
              (token) => check(call, scope, cmd.scope, token, hit ? calledAt : clock.now()),
              (error: unknown) => {
                if (!(error instanceof FluxTokenError) || !TYPED_CODES.has(error.code)) {
                  violations.push(`call ${call} failed with an untyped error: ${String(error)}`);
                }
              },
            ),
          );
          break;
        }
        case 'invalidate': {
          if (obtained.length === 0) break;
          const token = obtained[cmd.pick % obtained.length]!;
          const scope = SCOPES[cmd.scope];
          const done = manager.invalidate(scope, cmd.asString ? token.accessToken : token);
          if (done && scopeOfTestToken(token.accessToken) !== scope) violations.push(`invalidate(${show(scope)}) took another scope's token`);
          if (done) invalidated.push({ scope: cmd.scope, accessToken: token.accessToken, afterCall: callCount });
          break;
        }
        case 'advance':
          clock.advance(cmd.ms);
          break;
        case 'advanceLifetime':
          clock.advance(Math.max(0, Math.round(server.expiresIn * 1000 * cmd.fraction) + cmd.offsetMs));
          break;
        case 'fail':
          server.failNext(cmd.count, FAILURES[cmd.answer]!);
          break;
        case 'lifetime':
          server.expiresIn = cmd.seconds;
          break;
        case 'settle':
          await Promise.all(pending.splice(0));
          await whenIdle(manager);
          break;
      }
    }
    await Promise.all(pending.splice(0));
    await whenIdle(manager);
    const stats = manager.stats();
    if (stats.scheduled > stats.cached) violations.push(`more renewals scheduled (${stats.scheduled}) than tokens cached (${stats.cached})`);
    if (clock.live > 1) violations.push(`${clock.live} timers armed`);
  } finally {
    await manager.close();
    await server.close();
  }
  if (clock.live !== 0) violations.push('a timer is left after close');
  if (violations.length > 0) throw new Error(violations.join('\n'));
}

describe('property: random interleavings', () => {
  it('never hand out a token of another scope, past its margin, or invalidated, and fail only with typed errors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 10, maxLength: 60, size: 'max' }),
        fc.nat(),
        fc.constantFrom(20, 600, 3600),
        async (commands, jitterSeed, lifetime) => {
          await run(commands, jitterSeed, lifetime);
        },
      ),
      { numRuns: 50 },
    );
  });
});
