/**
 * Property: whatever shape the refusals take (HTTP status × RFC 6749 `error` × the grant they
 * land on × when they come and how many), a refresh token that was refused is never sent again,
 * and once the endpoint answers again every user has its own token within one cool-down step.
 *
 * Each run drives a fresh manager on a manual clock against the scripted token server, whose
 * next answers are the drawn refusals; the run is bounded in steps and in runs.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startHarness } from './fixtures/manager-harness.js';
import { learnRefreshAuthentication } from './fixtures/refresh-authentication.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

const STATUSES = [200, 400, 401, 403] as const;
const ERRORS = ['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_request', 'unsupported_grant_type', 'access_denied'] as const;
const COOLDOWN_MS = 1_000;
const MAX_COOLDOWN_MS = 4_000;
/** Steps of the clock while refusals last: enough for each to wait out the longest cool-down, still bounded. */
const MAX_STEPS = 400;

const refusal = fc.record({ status: fc.constantFrom(...STATUSES), error: fc.constantFrom(...ERRORS) });
const scenario = fc.record({
  users: fc.integer({ min: 1, max: 4 }),
  refusals: fc.array(refusal, { minLength: 1, maxLength: 6 }),
  /** `refresh`: the refusals meet renewals of cached tokens; `cold`: first requests. */
  phase: fc.constantFrom('refresh' as const, 'cold' as const),
  concurrent: fc.boolean(),
  authenticatedRefresh: fc.boolean(),
  stepMs: fc.integer({ min: 100, max: 1_500 }),
});

describe('refusals of every shape', () => {
  it('never resend a refused refresh token, and leave no user without a token one step after recovery', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const h = await startHarness({ cooldown: { base: COOLDOWN_MS, max: MAX_COOLDOWN_MS } });
        const { server, clock, manager } = h;
        if (s.authenticatedRefresh) {
          await learnRefreshAuthentication(manager, () => server.failNext(1, { status: 400, body: { error: 'invalid_client' } }));
        }
        const users = Array.from({ length: s.users }, (_, i) => `user-${i}`);
        const ask = async () => {
          const one = (u: string) => manager.getToken(u).then(() => undefined, () => undefined);
          if (s.concurrent) await Promise.all(users.map(one));
          else for (const u of users) await one(u);
        };
        try {
          if (s.phase === 'refresh') {
            await ask();
            clock.advance(3_600_000); // every cached token has expired: the next ask refreshes
          }
          const before = server.requests.length;
          for (const r of s.refusals) server.failNext(1, { status: r.status, body: { error: r.error } });
          for (let step = 0; step < MAX_STEPS && server.requests.length < before + s.refusals.length; step++) {
            await ask();
            clock.advance(s.stepMs);
          }
          expect(server.requests.length).toBeGreaterThanOrEqual(before + s.refusals.length);

          // The endpoint answers again: within one (the longest) cool-down step, every user has its token.
          clock.advance(MAX_COOLDOWN_MS);
          const tokens = await Promise.all(users.map((u) => manager.getToken(u)));
          expect(tokens.map((t) => scopeOfTestToken(t.accessToken))).toEqual(users);

          // A refresh token refused once never reaches the server again.
          const refused = new Set<string>();
          server.requests.forEach((request, i) => {
            const rt = request.form.refresh_token;
            if (rt === undefined) return;
            expect(refused.has(rt)).toBe(false);
            if (i >= before && i < before + s.refusals.length) refused.add(rt);
          });
        } finally {
          await h.stop();
        }
      }),
      { numRuns: 60 },
    );
  });
});
