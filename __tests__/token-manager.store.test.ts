import { afterEach, describe, expect, it } from '@jest/globals';
import type { Token } from '../lib/endpoint/token.js';
import { createToken } from '../lib/endpoint/token.js';
import type { EvictionListener, Renewal, RenewalResult, TokenStore } from '../lib/store/token-store.js';
import { recordEvents, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

/** A store shared with "other processes": `shared` stands for Redis, `local` for this process. */
class SharedStore implements TokenStore {
  readonly local = new Map<string, Token>();
  readonly shared = new Map<string, Token>();
  /** The `base` of every fetch the manager was asked to make through `coordinate`. */
  readonly bases: (Token | undefined)[] = [];
  failCoordinate = false;
  failSave = false;

  get size(): number {
    return this.local.size;
  }
  peek(key: string): Token | undefined {
    return this.local.get(key);
  }
  async coordinate(key: string, renewal: Renewal): Promise<RenewalResult> {
    if (this.failCoordinate) throw new Error('store unreachable');
    const shared = this.shared.get(key);
    if (shared !== undefined && renewal.isFresh(shared)) return { token: shared, source: 'store' };
    const base = shared ?? renewal.local;
    this.bases.push(base);
    const token = await renewal.fetch(base);
    this.shared.set(key, token);
    return { token, source: 'fetch' };
  }
  save(key: string, token: Token): Promise<void> {
    this.local.set(key, token);
    if (this.failSave) return Promise.reject(new Error('store unreachable'));
    return Promise.resolve();
  }
  onEvict(_listener: EvictionListener): void {}
}

const tokenFrom = (accessToken: string, issuedAt: number, seconds = 3600) =>
  createToken({ accessToken, tokenType: 'bearer', expiresIn: seconds, issuedAt, expiresAt: issuedAt + seconds * 1000, scope: 'user-1' });

describe('the TokenStore seam', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('takes a fresh token that another process put in a shared store, without asking the endpoint', async () => {
    const store = new SharedStore();
    h = await startHarness({ store });
    const { server, clock, manager } = h;
    const events = recordEvents(manager, 'token');
    const fromElsewhere = tokenFrom(`at.${Buffer.from('user-1').toString('base64url')}.999`, clock.now());
    store.shared.set('user-1', fromElsewhere);

    expect(await manager.getToken('user-1')).toBe(fromElsewhere);
    expect(await manager.getToken('user-1')).toBe(fromElsewhere); // now a local hit
    expect(server.requests).toHaveLength(0);
    expect(events).toEqual([{ scope: 'user-1', grant: 'store', background: false, expiresIn: 3600, expiresAt: fromElsewhere.expiresAt }]);
  });

  it('ignores a shared token past its margin, and stores the one it fetches', async () => {
    const store = new SharedStore();
    h = await startHarness({ store });
    const { server, clock, manager } = h;
    store.shared.set('user-1', tokenFrom('at.stale.1', clock.now() - 3_590_000));
    const token = await manager.getToken('user-1');
    expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    expect(server.requests).toHaveLength(1);
    expect(store.shared.get('user-1')).toBe(token);
  });

  it('renews with the refresh token of the shared copy, which may be newer than its own', async () => {
    const store = new SharedStore();
    h = await startHarness({ store });
    const { server, clock, manager } = h;
    const mine = await manager.getToken('user-1');
    manager.invalidate('user-1', mine);
    // Another process renewed meanwhile and rotated the refresh token; its token is now past its margin.
    const theirs = createToken({ ...tokenFrom('at.other.1', clock.now() - 3_590_000), refreshToken: 'rt-rotated-elsewhere' });
    store.shared.set('user-1', theirs);
    await manager.getToken('user-1');
    expect(store.bases.at(-1)?.refreshToken).toBe('rt-rotated-elsewhere');
    // The test server never issued that refresh token, so it refuses it and the manager falls back.
    expect(server.requests[1]?.form).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'rt-rotated-elsewhere' });
    expect(server.requests.map((r) => r.grant)).toEqual(['client_credentials', 'refresh_token', 'client_credentials']);
  });

  it('still hands out tokens when the store fails to coordinate or to save, and says so in a store event', async () => {
    const store = new SharedStore();
    h = await startHarness({ store });
    const { server, manager } = h;
    const events = recordEvents(manager, 'store');
    store.failCoordinate = true;
    store.failSave = true;
    const token = await manager.getToken('user-1');
    expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    expect(await manager.getToken('user-1')).toBe(token);
    expect(server.requests).toHaveLength(1);
    // The error's name and code only: its message is the store's free text.
    expect(events).toEqual([{ kind: 'degraded', scope: 'user-1', detail: 'coordinate() threw Error; this renewal went ahead without the store' }]);
  });
});
