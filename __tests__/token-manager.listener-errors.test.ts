// A listener that throws, whether OpenTelemetry's (a span processor or an instrument that fails)
// or the application's: the listeners added after it still run, and the OpenTelemetry ones never
// reach the process. Run in child processes, since the question is whether the process survives.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { runTsxChild, type ChildRun } from './helpers/tsx-child.js';

const CHILD = fileURLToPath(new URL('./fixtures/throwing-listeners.ts', import.meta.url));
/** The child is killed, and the test fails, if it has not exited by itself by then. */
const EXIT_DEADLINE_MS = 20_000;

function runChild(mode: string, tokenUrl: string): Promise<ChildRun> {
  return runTsxChild(CHILD, { env: { MODE: mode, TOKEN_URL: tokenUrl }, deadlineMs: EXIT_DEADLINE_MS });
}

/** The JSON line the child prints last, when it gets that far. */
function lastLine(stdout: string): unknown {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('a listener that throws', () => {
  let emulator: Emulator;
  const runs: Record<string, Promise<ChildRun>> = {};
  beforeAll(async () => {
    emulator = await startEmulator({ clientId: 'emulator-client', clientSecret: 'emulator-secret' });
    for (const mode of ['span-start', 'span-end', 'counter-add', 'user-listener', 'user-listener-handled']) runs[mode] = runChild(mode, emulator.tokenUrl);
  });
  afterAll(async () => {
    await Promise.all(Object.values(runs));
    await emulator.close();
  });

  it.each([
    ['a span processor that throws in onStart', 'span-start'],
    ['a span processor that throws in onEnd', 'span-end'],
    ['a counter whose add() throws', 'counter-add'],
  ])('in OpenTelemetry (%s): the worker goes on, later listeners run, the error goes to diag', async (_what, mode) => {
    const result = await runs[mode]!;
    expect(result).toMatchObject({ killed: false, code: 0, stderr: '' });
    expect(lastLine(result.stdout)).toEqual({
      gotToken: true,
      later: 2,
      diagErrors: [expect.stringMatching(/^flux-token-manager: /)],
      listenerErrors: [],
    });
  }, EXIT_DEADLINE_MS * 2);

  it("in the application, with a `listenerError` listener: it receives the error, and later listeners run", async () => {
    const result = await runs['user-listener-handled']!;
    expect(result).toMatchObject({ killed: false, code: 0, stderr: '' });
    expect(lastLine(result.stdout)).toEqual({
      gotToken: true,
      later: 2,
      diagErrors: [],
      listenerErrors: ['requestEnd: listener failure in mode user-listener-handled'],
    });
  }, EXIT_DEADLINE_MS * 2);

  it("in the application, with no `listenerError` listener: later listeners run, then it is thrown as an uncaught exception", async () => {
    const result = await runs['user-listener']!;
    expect(result).toMatchObject({ killed: false, code: 1 });
    expect(result.stderr).toContain('listener failure in mode user-listener');
    // The listener after the throwing one ran before the throw reached the process.
    expect(result.stdout).toMatch(/^later listener: requestStart\nlater listener: requestEnd\n/);
  }, EXIT_DEADLINE_MS * 2);
});

describe('listeners, each called on its own', () => {
  let emulator: Emulator;
  let manager: TokenManager;
  beforeAll(async () => {
    emulator = await startEmulator();
    manager = new TokenManager({ clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: emulator.tokenUrl, request: { retry: 0 } });
  });
  afterAll(async () => {
    await manager.close();
    await emulator.close();
  });

  it('run in the order added, every one of them, whichever throws; `once` listeners run once', async () => {
    const calls: string[] = [];
    const errors: string[] = [];
    manager.on('listenerError', ({ event, error }) => errors.push(`${event}: ${(error as Error).message}`));
    manager.on('token', (e) => calls.push(`first ${e.scope}`));
    manager.on('token', () => {
      throw new Error('second failed');
    });
    manager.once('token', (e) => calls.push(`once ${e.scope}`));
    manager.on('token', () => {
      throw new Error('fourth failed');
    });
    manager.on('token', (e) => calls.push(`last ${e.scope}`));

    await manager.getToken('a');
    await manager.getToken('b');

    expect(calls).toEqual(['first a', 'once a', 'last a', 'first b', 'last b']);
    expect(errors).toEqual(['token: second failed', 'token: fourth failed', 'token: second failed', 'token: fourth failed']);
    expect(emulator.stats().tokenCalls.total).toBe(2);
  });
});
