// The emulator's access tokens carry the claims of Flux's sample token, each of the same JSON type,
// so that code written against the emulator reads real Flux tokens the same way.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { decodeJws } from '../lib/endpoint/jws.js';
import { clientCredentials, postToken } from './helpers/emulator-http.js';
import { SEED_ACCESS_TOKEN } from './helpers/seed.js';

/** The JSON type of a value, telling integers, other numbers, arrays and null apart. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Each claim's name and JSON type, in order. */
function claimTypes(token: string): [string, string][] {
  return Object.entries(decodeJws(token).claims).map(([name, value]) => [name, jsonType(value)]);
}

/** `metadata` parsed, and its values parsed in turn: Flux nests JSON texts in a JSON string. */
function nestedMetadata(token: string): Record<string, unknown> {
  const outer = JSON.parse(decodeJws(token).claims.metadata as string) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(outer).map(([key, value]) => [key, JSON.parse(value as string)]));
}

const sample = decodeJws(SEED_ACCESS_TOKEN);

describe('emulator tokens are shaped like the Flux sample', () => {
  let emulator: Emulator;
  let clientWide: string;
  let restricted: string;

  beforeAll(async () => {
    // A clock off the whole second: the claims must still be integers.
    emulator = await startEmulator({ now: () => 1_700_000_000_123, expiresIn: 2.5 });
    const [a, b] = await Promise.all([
      postToken(emulator, clientCredentials(emulator)),
      postToken(emulator, clientCredentials(emulator, { scope: 'user 42@example.com' })),
    ]);
    clientWide = a.json!.access_token as string;
    restricted = b.json!.access_token as string;
  });

  afterAll(() => emulator?.close());

  it('has the same header as the sample', () => {
    expect(decodeJws(clientWide).header).toEqual(sample.header);
  });

  it('a client-wide token has the same claims, in the same order, with the same JSON types', () => {
    expect(claimTypes(clientWide)).toEqual(claimTypes(SEED_ACCESS_TOKEN));
    // Spelled out, so that a change to the sample or the emulator shows what moved.
    expect(claimTypes(clientWide)).toEqual([
      ['jti', 'string'],
      ['iss', 'string'],
      ['aud', 'string'],
      ['exp', 'integer'],
      ['nbf', 'integer'],
      ['metadata', 'string'],
      ['restrictedTo', 'object'],
    ]);
    expect(decodeJws(clientWide).claims.restrictedTo).toEqual(sample.claims.restrictedTo);
  });

  it('nbf is the clock rounded down, exp the end of the lifetime rounded up', () => {
    expect(decodeJws(clientWide).claims).toMatchObject({ nbf: 1_700_000_000, exp: 1_700_000_003 });
  });

  it('metadata nests JSON texts in a JSON string, as the sample does, with some of its keys', () => {
    const ours = nestedMetadata(clientWide);
    const theirs = nestedMetadata(SEED_ACCESS_TOKEN);
    expect(Object.keys(ours).every((key) => key in theirs)).toBe(true);
    for (const [key, value] of Object.entries(ours)) expect(jsonType(value)).toBe(jsonType(theirs[key]));
    expect(ours).toMatchObject({ clientType: 'BANK', signingMode: 'OPTIONAL', permissions: expect.arrayContaining(['GET /users/.*']) });
  });

  it('a restricted token differs only in restrictedTo, the user id as a string', () => {
    const types = claimTypes(restricted);
    expect(types.map(([name]) => name)).toEqual(Object.keys(sample.claims));
    expect(types.filter(([name]) => name !== 'restrictedTo')).toEqual(claimTypes(clientWide).filter(([name]) => name !== 'restrictedTo'));
    expect(decodeJws(restricted).claims.restrictedTo).toBe('user 42@example.com');
  });

  it('the per-user API reads both shapes: the client-wide token opens any user, the restricted one only its own', async () => {
    const get = async (token: string, user: string) =>
      (await fetch(`${emulator.url}/users/${encodeURIComponent(user)}`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await get(clientWide, 'anyone')).toBe(200);
    expect(await get(restricted, 'user 42@example.com')).toBe(200);
    expect(await get(restricted, 'user 43@example.com')).toBe(401);
    expect(emulator.stats().api.unauthorized['wrong-user']).toBe(1);
  });
});
