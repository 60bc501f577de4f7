// The emulator checks client credentials as a real server must: in time that does not depend on how
// much of a guess is right, its length included. Timing cannot be asserted without flakiness, so
// the test counts the work instead: every comparison goes through timingSafeEqual, with inputs of
// one fixed length, whatever the length of the guess.
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';

const crypto = await import('node:crypto');
const compared: number[][] = [];
jest.unstable_mockModule('node:crypto', () => ({
  ...crypto,
  timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    compared.push([a.byteLength, b.byteLength]);
    return crypto.timingSafeEqual(a, b);
  },
}));
const { startEmulator } = await import('../lib/emulator/index.js');
type Emulator = Awaited<ReturnType<typeof startEmulator>>;

describe('the emulator compares client credentials in constant time', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.close());
  beforeEach(() => {
    compared.length = 0;
  });

  const post = (clientId: string, clientSecret: string) =>
    fetch(emulator.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
    });

  it.each([
    ['the right secret', (s: string) => s, 200],
    ['a wrong secret of the same length', (s: string) => s.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x')), 401],
    ['a shorter secret', (s: string) => s.slice(0, 3), 401],
    ['a much longer secret', (s: string) => s.repeat(50), 401],
    ['an empty secret', () => '', 401],
  ])('%s: both the id and the secret go through timingSafeEqual, on inputs of one length', async (_what, guess, status) => {
    const response = await post(emulator.clientId, guess(emulator.clientSecret));
    await response.arrayBuffer();

    expect(response.status).toBe(status);
    expect(compared).toHaveLength(2);
    const lengths = new Set(compared.flat());
    expect(lengths.size).toBe(1);
  });

  it.each([
    ['a wrong client id', (id: string) => `${id}-not`],
    ['an empty client id', () => ''],
  ])('%s: the secret is still compared, so the answer takes as long as for a wrong secret', async (_what, badId) => {
    const response = await post(badId(emulator.clientId), emulator.clientSecret);
    await response.arrayBuffer();

    expect(response.status).toBe(401);
    expect(compared).toHaveLength(2);
  });
});
