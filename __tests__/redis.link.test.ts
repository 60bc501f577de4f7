/**
 * RedisLink, the bound on every Redis command, on a scripted client: a late answer on a live
 * connection is waited for up to the outage timeout; a connection that goes down ends the wait at
 * the next look; once Redis is taken for down, a caller waits the command timeout only, and an
 * answer that comes late ends the outage.
 */
import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisLink, UNAVAILABLE } from '../lib/redis/redis-link.js';
import type { StoreEvent } from '../lib/store/token-store.js';
import { deferred } from './helpers/redis-stores.js';

const COMMAND_TIMEOUT_MS = 20;
const OUTAGE_TIMEOUT_MS = 5_000;

function scripted() {
  const client = { status: 'ready' };
  const events: StoreEvent[] = [];
  const link = new RedisLink(client as unknown as Redis, {
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    outageTimeoutMs: OUTAGE_TIMEOUT_MS,
    report: (e) => events.push(e),
  });
  return { client, events, link };
}

describe('RedisLink', () => {
  it('waits past the command timeout for a late answer on a live connection', async () => {
    const { events, link } = scripted();
    const reply = deferred<string>();
    const pending = link.run('GET', () => reply.promise);
    // Many command timeouts later, the answer comes: it is used, and Redis was never taken for down.
    setTimeout(() => reply.resolve('late'), 10 * COMMAND_TIMEOUT_MS);
    expect(await pending).toBe('late');
    expect(events).toEqual([]);
  });

  it('gives up at the next look once the connection went down, and then waits the command timeout only', async () => {
    const { client, events, link } = scripted();
    const first = link.run('GET', () => new Promise<string>(() => {}));
    setTimeout(() => (client.status = 'reconnecting'), 3 * COMMAND_TIMEOUT_MS);
    expect(await first).toBe(UNAVAILABLE);
    expect(events).toEqual([{ kind: 'degraded', detail: 'GET: connection reconnecting' }]);

    // Back, but the probe's answer is late: the caller gives up after the command timeout...
    client.status = 'ready';
    const probe = deferred<string>();
    const started = performance.now();
    expect(await link.run('GET', () => probe.promise)).toBe(UNAVAILABLE);
    expect(performance.now() - started).toBeLessThan(OUTAGE_TIMEOUT_MS);
    // ...and the late answer ends the outage.
    probe.resolve('late');
    await probe.promise;
    await Promise.resolve();
    expect(events.map((e) => e.kind)).toEqual(['degraded', 'recovered']);
    expect(link.degraded).toBe(false);
  });
});
