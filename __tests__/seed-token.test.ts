import { describe, expect, it } from '@jest/globals';
import { decodeJws, expiryFromJws } from '../lib/index.js';
import { SEED_ACCESS_TOKEN } from './helpers/seed.js';

describe('decoding the seed sample token', () => {
  it('reads the gzip-compressed claims of the Flux sample', () => {
    const { header, claims } = decodeJws(SEED_ACCESS_TOKEN);
    expect(header).toEqual({ alg: 'RS256', zip: 'GZIP' });
    expect(claims.exp).toBe(1510490272);
    expect(claims.exp! - claims.nbf!).toBe(3600);
    expect(claims.iss).toBe('tryflux.com');
    expect(Object.keys(claims)).toEqual(expect.arrayContaining(['jti', 'iss', 'aud', 'exp', 'nbf', 'metadata', 'restrictedTo']));
    expect(expiryFromJws(SEED_ACCESS_TOKEN)).toBe(1510490272 * 1000);
  });
});
