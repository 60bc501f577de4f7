/**
 * A token that looks like a JWS but that this library cannot read is refused, never cached: its
 * `restrictedTo` claim cannot be checked, and a lenient decoder on the API side may read it as
 * bound to another user. Opaque tokens (not JWS-shaped) are handed out as before.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { gzipSync } from 'node:zlib';
import { startHarness, type Harness } from './fixtures/manager-harness.js';
import { CLOCK_START } from './fixtures/manual-clock.js';

const segment = (value: object | Buffer, encoding: 'base64url' | 'base64' = 'base64url') =>
  (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString(encoding);

const claims = { iat: CLOCK_START / 1000, exp: CLOCK_START / 1000 + 3600, restrictedTo: 'user-2' };

/** A claims payload whose standard base64 holds `+`, `/` or `=` (padding): not base64url. */
function standardBase64Payload(): string {
  for (let pad = ''; ; pad += ' ') {
    const text = segment(Buffer.from(JSON.stringify(claims) + pad), 'base64');
    if (/[+/=]/.test(text)) return text;
  }
}

const UNREADABLE: [string, string][] = [
  ['a payload over 64 KiB decompressed', `${segment({ alg: 'RS256', zip: 'GZIP' })}.${segment(gzipSync(JSON.stringify({ ...claims, pad: 'x'.repeat(70_000) })))}.sig`],
  ['standard base64 or padding in the payload', `${segment({ alg: 'RS256' })}.${standardBase64Payload()}.sig`],
  ['padding in the header', `${segment({ alg: 'RS256' })}==.${segment(claims)}.sig`],
  ['an unknown zip', `${segment({ alg: 'RS256', zip: 'BR' })}.${segment(claims)}.sig`],
  ['a payload that is not JSON', `${segment({ alg: 'RS256' })}.${segment(Buffer.from('not json'))}.sig`],
];

describe('an access token that looks like a JWS but cannot be read', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it.each(UNREADABLE)('with %s is refused with a typed error and never cached', async (_name, accessToken) => {
    h = await startHarness({ cooldown: { base: 0 } });
    const { server, manager } = h;
    server.failNext(1, { status: 200, body: { access_token: accessToken, token_type: 'bearer', expires_in: 3600 } });
    await expect(manager.getToken('user-1')).rejects.toMatchObject({ code: 'FLUX_INVALID_TOKEN_RESPONSE', reason: 'unreadable_jws' });
    expect(manager.stats().cached).toBe(0);
    // The next request is a new one, and its (opaque) token is handed out.
    const token = await manager.getToken('user-1');
    expect(token.accessToken).not.toBe(accessToken);
    expect(server.requests).toHaveLength(2);
  });

  it('an opaque token with dots, whose first segment is no JSON header, is handed out as before', async () => {
    h = await startHarness();
    const { server, manager } = h;
    server.failNext(1, { status: 200, body: { access_token: 'abc.def.ghi', token_type: 'bearer', expires_in: 3600 } });
    expect((await manager.getToken('user-1')).accessToken).toBe('abc.def.ghi');
  });
});
