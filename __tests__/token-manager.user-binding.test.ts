/**
 * `requireUserBinding`: on an API where a token without a user is client-wide, an answer to a
 * user's request that names no `scope`, with a token that cannot show its user, is a token for
 * every user. With the option on, such an answer is refused; off (the default), it is handed out.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../lib/shared/errors.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { startHarness, type Harness } from './fixtures/manager-harness.js';
import { gzipJws } from './helpers/nock-token-endpoint.js';

const opaque = { status: 200, body: { access_token: 'opaque-token-1', token_type: 'bearer', expires_in: 3600 } };

describe('requireUserBinding', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('refuses an answer to a user\'s request with no `scope` and an opaque token, and caches nothing', async () => {
    h = await startHarness({ requireUserBinding: true, cooldown: { base: 0 } });
    const { server, manager } = h;
    server.failNext(1, opaque);
    await expect(manager.getToken('user-1')).rejects.toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason: 'unbound_token' });
    expect(manager.stats().cached).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a readable JWS without `restrictedTo` too, and takes one that shows its user either way', async () => {
    h = await startHarness({ requireUserBinding: true, cooldown: { base: 0 } });
    const { server, manager } = h;
    const unbound = gzipJws({ jti: 'a' });
    server.failNext(1, { status: 200, body: { access_token: unbound, token_type: 'bearer', expires_in: 3600 } });
    await expect(manager.getToken('user-1')).rejects.toMatchObject({ reason: 'unbound_token' });

    const claimed = gzipJws({ jti: 'b', restrictedTo: 'user-1' });
    server.failNext(1, { status: 200, body: { access_token: claimed, token_type: 'bearer', expires_in: 3600 } });
    expect((await manager.getToken('user-1')).accessToken).toBe(claimed);
    server.failNext(1, { status: 200, body: { ...opaque.body, scope: 'user-2' } });
    expect((await manager.getToken('user-2')).accessToken).toBe('opaque-token-1');
    // The client-wide token needs no user.
    server.failNext(1, opaque);
    expect((await manager.getToken()).accessToken).toBe('opaque-token-1');
    expect(server.requests).toHaveLength(4);
  });

  it('is off by default: the same answer is handed out as the user\'s token', async () => {
    h = await startHarness();
    h.server.failNext(1, opaque);
    expect((await h.manager.getToken('user-1')).accessToken).toBe('opaque-token-1');
  });

  it('is validated at construction', () => {
    h = { stop: async () => {} } as Harness;
    expect(() => new TokenManager({ clientId: 'c', clientSecret: 's', requireUserBinding: 'yes' as unknown as boolean })).toThrow(
      ConfigurationError,
    );
    expect(() => new TokenManager({ clientId: 'c', clientSecret: 's', requireUserBinding: 'yes' as unknown as boolean })).toThrow(
      /`requireUserBinding`.*boolean.*got/,
    );
  });
});
