import { getEventListeners } from 'node:events';
import { runInThisContext } from 'node:vm';
import { afterEach, describe, expect, it } from '@jest/globals';
import { AbortError } from '../lib/shared/errors.js';
import { hasSettled, startHarness, type Harness } from './fixtures/manager-harness.js';
import { scopeOfTestToken } from './helpers/scripted-token-server.js';

describe('abort', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it("rejects only the aborted caller's wait; the shared request goes on for the other caller", async () => {
    h = await startHarness();
    const { server, manager } = h;
    server.hold();
    const controller = new AbortController();
    const aborted = manager.getToken('user-1', { signal: controller.signal });
    const other = manager.getToken('user-1');
    await server.waitForRequests(1);

    const reason = new Error('the HTTP request that needed it was cancelled');
    controller.abort(reason);
    const error = await aborted.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'FLUX_ABORTED', cause: reason });
    expect(await hasSettled(other)).toBe(false);

    server.release();
    const token = await other;
    expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    expect(server.requests).toHaveLength(1);
  });

  it('when every caller aborts, the request still completes and its token is cached for the next one', async () => {
    h = await startHarness();
    const { server, manager } = h;
    server.hold();
    const controllers = [new AbortController(), new AbortController()];
    const calls = controllers.map((c) => manager.getToken('user-1', { signal: c.signal }));
    await server.waitForRequests(1);
    for (const c of controllers) c.abort();
    for (const call of calls) await expect(call).rejects.toMatchObject({ code: 'FLUX_ABORTED' });
    expect(manager.stats().inFlight).toBe(1);

    server.release();
    const token = await manager.getToken('user-1');
    expect(scopeOfTestToken(token.accessToken)).toBe('user-1');
    expect(server.requests).toHaveLength(1);
    expect(manager.stats().cached).toBe(1);
  });

  it('an already aborted signal rejects at once and sends no request; callers of other scopes are not affected', async () => {
    h = await startHarness();
    const { server, manager } = h;
    const controller = new AbortController();
    controller.abort();
    server.hold();
    const other = manager.getToken('user-2', { signal: new AbortController().signal });
    await expect(manager.getToken('user-1', { signal: controller.signal })).rejects.toMatchObject({ code: 'FLUX_ABORTED' });
    expect(manager.stats().inFlight).toBe(1);
    server.release();
    expect(scopeOfTestToken((await other).accessToken)).toBe('user-2');
    expect(server.requests.map((r) => r.scope)).toEqual(['user-2']);
  });

  it('a cached token is handed out even with a signal, and aborting afterwards changes nothing', async () => {
    h = await startHarness();
    const { manager } = h;
    const first = await manager.getToken('user-1');
    const controller = new AbortController();
    const again = manager.getToken('user-1', { signal: controller.signal });
    controller.abort();
    expect(await again).toBe(first);
  });

  it('one signal shared by 50 concurrent waits prints no MaxListenersExceededWarning, and aborting it ends them all', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    // Node emits the warning on its own process object; jest's global `process` is a copy.
    const nodeProcess = runInThisContext('process') as NodeJS.Process;
    nodeProcess.on('warning', onWarning);
    try {
      h = await startHarness();
      const { server, manager } = h;
      server.hold();
      const controller = new AbortController();
      const waits = Array.from({ length: 50 }, (_, i) => manager.getToken(`user-${i % 25}`, { signal: controller.signal }).catch((e: unknown) => e));
      await server.waitForRequests(8);
      controller.abort();
      const errors = await Promise.all(waits);
      expect(errors.filter((e) => e instanceof AbortError)).toHaveLength(50);

      // And the same signal, reused for waits that end normally, leaves none of them behind.
      const again = new AbortController();
      server.release();
      await Promise.all(Array.from({ length: 50 }, (_, i) => manager.getToken(`user-${i % 25}`, { signal: again.signal })));
      expect(getEventListeners(again.signal, 'abort')).toHaveLength(0);
      await hasSettled(Promise.resolve(), 2); // process warnings are emitted on a later tick
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      nodeProcess.off('warning', onWarning);
    }
  });
});
