/**
 * Managers in one jest process that stand for separate processes of a fleet: each with its own
 * ioredis client and RedisTokenStore, and the store events it reported. Closed together after
 * each test.
 */
import type { Redis } from 'ioredis';
import { RedisTokenStore, type RedisTokenStoreOptions } from '../../lib/redis/index.js';
import { TokenManager } from '../../lib/manager/token-manager.js';
import type { TokenManagerOptions } from '../../lib/manager/manager-options.js';
import type { StoreEvent } from '../../lib/store/token-store.js';
import { connect } from './redis.js';

/** One member: its client, store, manager, and the store events its manager emitted. */
export interface StoreMember {
  redis: Redis;
  store: RedisTokenStore;
  manager: TokenManager;
  events: StoreEvent[];
}

export class StoreMembers {
  readonly all: StoreMember[] = [];

  /** A member on a new connection to `url`. */
  add(url: string, store: Omit<RedisTokenStoreOptions, 'redis'>, manager: Omit<TokenManagerOptions, 'store'>): StoreMember {
    const redis = connect(url);
    const member: StoreMember = { redis, store: new RedisTokenStore({ redis, ...store }), manager: undefined!, events: [] };
    member.manager = new TokenManager({ ...manager, store: member.store });
    member.manager.on('store', (event) => member.events.push(event));
    this.all.push(member);
    return member;
  }

  /** Closes every manager (and so its store), then its connection. */
  async close(): Promise<void> {
    for (const m of this.all.splice(0)) {
      await m.manager.close();
      m.redis.disconnect();
    }
  }
}
