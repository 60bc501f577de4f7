// Reading Flux access tokens (JWS with a compressed payload) beyond the seed sample, which
// seed-token.test.ts covers: the other compressions, and every way a JWS can be malformed.
import { describe, expect, it } from '@jest/globals';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { FluxTokenError, TokenDecodeError, decodeJws, expiryFromJws } from '../lib/index.js';
import { gzipJws } from './helpers/nock-token-endpoint.js';

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const header = (fields: Record<string, unknown>) => b64(JSON.stringify(fields));
const claims = { jti: 'a1b2', iss: 'tryflux.com', aud: 'flux-client-4b1d', exp: 1800000000, nbf: 1799996400, restrictedTo: 'user-42' };
const signature = b64('signature');

function decodeError(token: string): TokenDecodeError {
  try {
    decodeJws(token);
  } catch (error) {
    expect(error).toBeInstanceOf(TokenDecodeError);
    expect(error).toBeInstanceOf(FluxTokenError);
    expect(error).toMatchObject({ code: 'FLUX_TOKEN_DECODE', name: 'TokenDecodeError' });
    return error as TokenDecodeError;
  }
  throw new Error('expected decodeJws to throw');
}

describe('decoding', () => {
  it('reads a gzip payload (zip: GZIP)', () => {
    expect(decodeJws(gzipJws(claims))).toEqual({ header: { alg: 'RS256', zip: 'GZIP' }, claims });
  });

  it('reads a raw-deflate payload (zip: DEF, RFC 7516)', () => {
    const token = [header({ alg: 'RS256', zip: 'DEF' }), b64(deflateRawSync(JSON.stringify(claims))), signature].join('.');

    expect(decodeJws(token)).toEqual({ header: { alg: 'RS256', zip: 'DEF' }, claims });
  });

  it('reads an uncompressed payload (no zip)', () => {
    const token = [header({ alg: 'HS256', typ: 'JWT' }), b64(JSON.stringify(claims)), signature].join('.');

    expect(decodeJws(token)).toEqual({ header: { alg: 'HS256', typ: 'JWT' }, claims });
  });

  it('accepts the zip value in lower case', () => {
    expect(decodeJws(gzipJws(claims, { alg: 'RS256', zip: 'gzip' })).claims).toEqual(claims);
  });

  it('reads the expiry in milliseconds', () => {
    expect(expiryFromJws(gzipJws(claims))).toBe(1800000000 * 1000);
  });
});

describe('malformed tokens', () => {
  const gzipHeader = header({ alg: 'RS256', zip: 'GZIP' });
  const cases: Array<[string, string, RegExp]> = [
    ['2 segments', `${gzipHeader}.${b64(gzipSync(JSON.stringify(claims)))}`, /3 dot-separated segments.*has 2/],
    ['4 segments', `${gzipJws(claims)}.extra`, /3 dot-separated segments.*has 4/],
    ['an empty string', '', /3 dot-separated segments.*has 1/],
    ['a header that is not base64url', `e30!.${b64('{}')}.${signature}`, /header is not base64url/],
    ['a payload that is not base64url', `${gzipHeader}.H4sI+AAA/=.${signature}`, /payload is not base64url/],
    ['a header that is not JSON', `${b64('not json')}.${b64('{}')}.${signature}`, /header is not JSON/],
    ['a header that is a JSON array', `${b64('[1]')}.${b64('{}')}.${signature}`, /header is not a JSON object/],
    ['a payload that does not gunzip', `${gzipHeader}.${b64('definitely not gzip')}.${signature}`, /does not decompress as GZIP/],
    ['a truncated gzip payload', `${gzipHeader}.${b64(gzipSync(JSON.stringify(claims)).subarray(0, 20))}.${signature}`, /does not decompress as GZIP/],
    ['a payload that does not inflate', `${header({ zip: 'DEF' })}.${b64(Buffer.from([0xff, 0xff, 0xff, 0xff]))}.${signature}`, /does not decompress as DEF/],
    ['an unsupported zip (BR)', `${header({ alg: 'RS256', zip: 'BR' })}.${b64('{}')}.${signature}`, /Unsupported JWS compression "BR"/],
    ['a gzip payload that is not JSON', `${gzipHeader}.${b64(gzipSync('not json'))}.${signature}`, /payload is not JSON/],
    ['a payload that is a JSON string', `${header({ alg: 'none' })}.${b64('"claims"')}.${signature}`, /payload is not a JSON object/],
    ['a gzip bomb (payload over 64 KiB once inflated)', `${gzipHeader}.${b64(gzipSync(JSON.stringify({ pad: 'a'.repeat(100_000) })))}.${signature}`, /does not decompress/],
  ];

  it.each(cases)('rejects %s with TokenDecodeError', (_what, token, message) => {
    const error = decodeError(token);

    expect(error.message).toMatch(message);
    // The message names the problem, never the token.
    if (token.length > 0) expect(error.message).not.toContain(token.split('.')[1] || token);
    expect(expiryFromJws(token)).toBeUndefined();
  });

  it('rejects a value that is not a string', () => {
    expect(decodeError(42 as unknown as string).message).toMatch(/must be a string/);
  });
});
