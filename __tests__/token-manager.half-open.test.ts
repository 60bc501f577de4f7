/**
 * Half-open cool-downs. While the cool-down of a transient failure (a 5xx, a timeout, a malformed
 * answer) holds, one probe request at a time finds out whether the endpoint is back, and callers
 * wait for it: no caller who arrives after the endpoint recovered is handed the error of a failure
 * the endpoint no longer gives. A refusal the server will repeat, and a wait it asked for
 * (`Retry-After`), hold as they are.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

describe('the cool-down of a transient failure', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('hands a token to callers who come after the endpoint recovered, through one probe request', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    server.failNext(1, { status: 500, body: { error: 'server_error' } });
    await expect(manager.getToken('user-1')).rejects.toMatchObject({ status: 500 });
    expect(manager.stats().coolingDown).toBe(1);

    // The endpoint is back; the cool-down (1 s) still holds.
    clock.advance(100);
    server.hold();
    const callers = Array.from({ length: 5 }, () => manager.getToken('user-1'));
    await server.waitForRequests(2);
    server.release();
    for (const token of await Promise.all(callers)) expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    expect(server.requests).toHaveLength(2);
  });

  it('whose probe fails hands its error to the callers who waited for it, and the next caller probes again', async () => {
    h = await startHarness();
    const { server, clock, manager } = h;
    server.failNext(2, { status: 500, body: { error: 'server_error' } });
    await expect(manager.getToken('user-1')).rejects.toMatchObject({ status: 500 });
    clock.advance(100);
    const waiting = Array.from({ length: 3 }, () => manager.getToken('user-1').catch((e: unknown) => e));
    for (const error of await Promise.all(waiting)) expect(error).toMatchObject({ status: 500 });
    expect(server.requests).toHaveLength(2);
    clock.advance(100);
    expect(scopeOfTestToken((await manager.getToken('user-1')).accessToken)).toBe('user-1');
    expect(server.requests).toHaveLength(3);
  });
});

describe('a cool-down that holds as it is', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it.each([
    ['a refusal the server will repeat (invalid_client)', { status: 401, body: { error: 'invalid_client' } }],
    ['a wait the server asked for (Retry-After)', { status: 503, body: {}, headers: { 'retry-after': '2' } }],
    ['a token for another user', { status: 200, body: { access_token: 'x', token_type: 'bearer', expires_in: 60, scope: 'user-2' } }],
  ])('after %s: callers get the error without a request', async (_name, answer) => {
    h = await startHarness();
    const { server, clock, manager } = h;
    server.failNext(1, answer);
    const error = await manager.getToken('user-1').catch((e: unknown) => e);
    clock.advance(100);
    await expect(manager.getToken('user-1')).rejects.toBe(error);
    expect(server.requests).toHaveLength(1);
  });
});
