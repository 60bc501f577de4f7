/**
 * The child process of the undiciAuth test for Node's own fetch: jest runs tests in a sandbox
 * whose globals are not the ones Node's fetch reads its dispatcher from, so this runs in a plain
 * process. It installs undiciAuth on the global dispatcher, fetches one user's receipts with
 * Node's global fetch, and prints the status and body.
 *
 * Environment: EMULATOR_URL, TOKEN_URL, CLIENT_ID, CLIENT_SECRET (all required).
 */
import { Agent, setGlobalDispatcher } from 'undici';
import { TokenManager } from '../../lib/index.js';
import { undiciAuth } from '../../lib/http/undici.js';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

const manager = new TokenManager({ clientId: env('CLIENT_ID'), clientSecret: env('CLIENT_SECRET'), tokenUrl: env('TOKEN_URL'), request: { retry: 0 } });
const agent = new Agent();
setGlobalDispatcher(agent.compose(undiciAuth(manager, { scope: 'user-2' })));
const response = await fetch(`${env('EMULATOR_URL')}/users/user-2/receipts`);
process.stdout.write(`${JSON.stringify({ status: response.status, body: await response.json() })}\n`);
await manager.close();
await agent.close();
