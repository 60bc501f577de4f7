import { afterEach, describe, expect, it } from '@jest/globals';
import type { Token } from '../lib/token.js';
import { createToken } from '../lib/token.js';
import type { EvictionListener, TokenStore } from '../lib/token-store.js';
import { recordEvents, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

/** A store shared with "other processes": `shared` stands for Redis, `local` for this process. */
class SharedStore implements TokenStore {
  readonly local = new Map<string, Token>();
  readonly shared = new Map<string, Token>();
  failLoad = false;
  failSave = false;

  get size(): number {
    return this.local.size;
  }
  peek(key: string): Token | undefined {
    return this.local.get(key);
  }
  async load(key: string): Promise<Token | undefined> {
    if (this.failLoad) throw new Error('store unreachable');
    return this.shared.get(key) ?? this.local.get(key);
  }
  save(key: string, token: Token): Promise<void> {
    this.local.set(key, token);
    if (this.failSave) return Promise.reject(new Error('store unreachable'));
    this.shared.set(key, token);
    return Promise.resolve();
  }
  delete(key: string, token: Token): void {
    if (this.local.get(key) === token) this.local.delete(key);
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

  it('still hands out tokens when the store fails to load or to save', async () => {
    const store = new SharedStore();
    h = await startHarness({ store });
    const { server, manager } = h;
    store.failLoad = true;
    store.failSave = true;
    const token = await manager.getToken('user-1');
    expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    expect(await manager.getToken('user-1')).toBe(token);
    expect(server.requests).toHaveLength(1);
  });
});
