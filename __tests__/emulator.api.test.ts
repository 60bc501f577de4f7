import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '../lib/shared/errors.js';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { callApi, issue } from './helpers/emulator-http.js';

const START = 1_700_000_000_000;

describe('the emulator per-user API', () => {
  let emulator: Emulator;
  let now = START;

  beforeAll(async () => {
    emulator = await startEmulator({ now: () => now, expiresIn: 60 });
  });
  afterAll(() => emulator.close());
  beforeEach(() => {
    now = START;
    emulator.setApiFault('none');
    emulator.resetStats();
  });

  describe('answers 200', () => {
    it('to a client-wide token, for any user', async () => {
      const { accessToken } = await issue(emulator);
      for (const user of ['1', 'user-42']) {
        const answer = await callApi(emulator, `/users/${user}/receipts`, `Bearer ${accessToken}`);
        expect(answer.status).toBe(200);
        expect(answer.json).toEqual({ user, path: `/users/${user}/receipts`, method: 'GET' });
      }
    });

    it('to a restricted token, on its own user, at any subpath (query left out of `path`)', async () => {
      const { accessToken } = await issue(emulator, '42');
      const answers = await Promise.all(
        ['/users/42', '/users/42/', '/users/42/receipts/2024?page=2'].map((path) => callApi(emulator, path, `Bearer ${accessToken}`)),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers[2]!.json).toMatchObject({ user: '42', path: '/users/42/receipts/2024' });
    });

    it('to a percent-encoded user id matching the token scope', async () => {
      const { accessToken } = await issue(emulator, 'ann smith/ü');
      const answer = await callApi(emulator, `/users/${encodeURIComponent('ann smith/ü')}/x`, `Bearer ${accessToken}`);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ user: 'ann smith/ü' });
    });

    it('to a token up to the last millisecond of its life, by the injected clock', async () => {
      const { accessToken } = await issue(emulator, '7');
      now = START + 60_000 - 1;
      expect((await callApi(emulator, '/users/7', `Bearer ${accessToken}`)).status).toBe(200);
    });
  });

  describe('answers 401 and counts the reason', () => {
    it('`missing`: no Authorization header, or not a bearer token', async () => {
      const answers = [
        await callApi(emulator, '/users/1'),
        await callApi(emulator, '/users/1', 'Basic Zmx1eDpzZWNyZXQ='),
        await callApi(emulator, '/users/1', 'Bearer'),
      ];
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401]);
      expect(answers[0]!.json).toMatchObject({ reason: 'missing' });
      expect(answers[0]!.headers.get('www-authenticate')).toBe('Bearer realm="flux-emulator"');
      expect(emulator.stats().api.unauthorized.missing).toBe(3);
    });

    it('`unknown`: a token this emulator did not sign', async () => {
      const { accessToken } = await issue(emulator);
      const [header, payload, signature] = accessToken.split('.') as [string, string, string];
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      const other = await startEmulator();
      let foreign: string;
      try {
        foreign = (await issue(other)).accessToken;
      } finally {
        await other.close();
      }
      const candidates = ['not-a-jws', `${header}.${payload}.${flipped}`, `${header}.${payload}`, foreign];
      for (const candidate of candidates) {
        const answer = await callApi(emulator, '/users/1', `Bearer ${candidate}`);
        expect(answer.status).toBe(401);
        expect(answer.json).toMatchObject({ error: 'invalid_token', reason: 'unknown' });
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="flux-emulator", error="invalid_token"/);
      }
      expect(emulator.stats().api.unauthorized.unknown).toBe(candidates.length);
    });

    it('`expired`: at exp by the injected clock, without waiting', async () => {
      const { accessToken } = await issue(emulator, '7');
      now = START + 60_000;
      const answer = await callApi(emulator, '/users/7', `Bearer ${accessToken}`);
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ reason: 'expired' });
      expect(emulator.stats().api.unauthorized.expired).toBe(1);
    });

    it('`expired` for sub-second lifetimes too, at exp: the whole second after the lifetime ends', async () => {
      let t = START + 250;
      const short = await startEmulator({ expiresIn: 0.5, now: () => t });
      try {
        const { accessToken } = await issue(short);
        t = START + 999;
        expect((await callApi(short, '/users/1', `Bearer ${accessToken}`)).status).toBe(200);
        t = START + 1000;
        expect((await callApi(short, '/users/1', `Bearer ${accessToken}`)).json).toMatchObject({ reason: 'expired' });
      } finally {
        await short.close();
      }
    });

    it('`wrong-user`: a token restricted to another user', async () => {
      const { accessToken } = await issue(emulator, '42');
      const answer = await callApi(emulator, '/users/43/receipts', `Bearer ${accessToken}`);
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ reason: 'wrong-user' });
      expect(emulator.stats().api.unauthorized['wrong-user']).toBe(1);
    });
  });

  describe('setApiFault', () => {
    it("'401' with a count refuses that many calls (reason `forced`), then recovers", async () => {
      const { accessToken } = await issue(emulator, '1');
      emulator.setApiFault('401', { count: 2 });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await callApi(emulator, '/users/1', `Bearer ${accessToken}`)).status);
      expect(statuses).toEqual([401, 401, 200]);
      expect(emulator.stats().api.unauthorized.forced).toBe(2);
    });

    it("'401' without a count lasts until 'none'", async () => {
      const { accessToken } = await issue(emulator, '1');
      emulator.setApiFault('401');
      for (let i = 0; i < 3; i++) {
        expect((await callApi(emulator, '/users/1', `Bearer ${accessToken}`)).json).toMatchObject({ reason: 'forced' });
      }
      emulator.setApiFault('none');
      expect((await callApi(emulator, '/users/1', `Bearer ${accessToken}`)).status).toBe(200);
    });

    it('rejects an unknown mode or a bad count', () => {
      expect(() => emulator.setApiFault('500' as never)).toThrow(InvalidArgumentError);
      expect(() => emulator.setApiFault('401', { count: 0 })).toThrow('Expected `count` to be an integer from 1 and up, got `0` (number)');
    });
  });

  describe('stats', () => {
    it('counts API answers by status and 401s by reason', async () => {
      const { accessToken } = await issue(emulator, '1');
      await callApi(emulator, '/users/1', `Bearer ${accessToken}`);
      await callApi(emulator, '/users/2', `Bearer ${accessToken}`);
      await callApi(emulator, '/users/1');
      await callApi(emulator, '/users');
      expect(emulator.stats().api).toEqual({
        total: 4,
        byStatus: { '200': 1, '401': 2, '404': 1 },
        unauthorized: { missing: 1, unknown: 0, expired: 0, 'wrong-user': 1, forced: 0 },
      });
      expect(emulator.stats().tokenCalls.total).toBe(1);
    });
  });
});
