import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { runNode, type NodeChildResult } from './helpers/node-child.js';
import { startTokenServer, type TokenServer } from './helpers/scripted-token-server.js';

const CHILD = fileURLToPath(new URL('./fixtures/manager-without-close.ts', import.meta.url));
/** The child is killed, and the test fails, if it has not exited by itself by then. */
const EXIT_DEADLINE_MS = 10_000;

function runChild(env: Record<string, string>): Promise<NodeChildResult> {
  return runNode(['--import', 'tsx', CHILD], { env, deadlineMs: EXIT_DEADLINE_MS });
}

describe('a process that holds a TokenManager', () => {
  let server: TokenServer;
  beforeEach(async () => {
    server = await startTokenServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it.each([
    ['with the default options', {}],
    ['with a rate limit (intervalCap and interval)', { RATE_LIMIT: '1' }],
  ])('exits by itself when its work is done, without close(), %s', async (_label, extra) => {
    const result = await runChild({ TOKEN_URL: server.tokenUrl, ...extra });
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ killed: false, code: 0, signal: null });
    // Its renewals were scheduled: the exit is not for lack of timers.
    expect(JSON.parse(result.stdout)).toMatchObject({ cached: 3, scheduled: 3, inFlight: 0, hits: 3, misses: 3 });
    expect(server.requests).toHaveLength(3);
  });
});
