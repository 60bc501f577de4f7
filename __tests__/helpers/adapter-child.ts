/**
 * The child process of the lifecycle test: a worker that uses a TokenManager through gotAuth and
 * authFetch against the emulator (including one 401 and its retry), prints what it saw, and ends
 * its work WITHOUT calling close(). It must exit by itself: renewal timers are unref'd, and idle
 * keep-alive sockets must not hold the process either.
 *
 * Environment: EMULATOR_URL, TOKEN_URL, CLIENT_ID, CLIENT_SECRET (all required).
 */
import got from 'got';
import { authFetch, TokenManager } from '../../lib/index.js';
import { gotAuth } from '../../lib/http/got.js';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

const api = env('EMULATOR_URL');
const manager = new TokenManager({ clientId: env('CLIENT_ID'), clientSecret: env('CLIENT_SECRET'), tokenUrl: env('TOKEN_URL'), request: { retry: 0 } });
const client = got.extend(gotAuth(manager), { prefixUrl: api, retry: { limit: 0 } });
const statuses: number[] = [];
for (const user of ['user-1', 'user-2', 'user-3']) {
  statuses.push((await client.get(`users/${user}/receipts`, { context: { scope: user } })).statusCode);
  const response = await authFetch(manager, { scope: user })(`${api}/users/${user}/profile`);
  await response.arrayBuffer();
  statuses.push(response.status);
}
process.stdout.write(`${JSON.stringify({ statuses, stats: manager.stats() })}\n`);
