/**
 * A worker that calls the Flux API with got on behalf of several users, each request with its own
 * user's token, until SIGTERM. Then it shuts down in order: it stops starting requests, lets the ones
 * in progress finish with their tokens, and only then closes the manager (which stops the renewals
 * and their timers, so that the process can exit).
 *
 *   FLUX_TOKEN_URL=... FLUX_CLIENT_ID=... FLUX_CLIENT_SECRET=... FLUX_API_URL=... \
 *     node --import tsx examples/got-worker.ts
 *
 * `npm run examples` runs it against the emulator and sends it SIGTERM once it has served each user.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import got from 'got';
import { TokenManager } from 'flux-token-manager';
import { gotAuth } from 'flux-token-manager/got';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (see the comment at the top of this file)`);
  return value;
}

const tokens = new TokenManager({
  tokenUrl: required('FLUX_TOKEN_URL'),
  clientId: required('FLUX_CLIENT_ID'),
  clientSecret: required('FLUX_CLIENT_SECRET'),
});
// The token URL's origin gets tokens by default; an API on another origin goes in `allowedOrigins`.
const flux = got.extend(gotAuth(tokens), { prefixUrl: required('FLUX_API_URL') });

const users = ['ada', 'grace', 'jane@example.com'];
const served = new Set<string>();
let requests = 0;
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});

/** One user's work: a request, a pause, until the process is told to stop. */
async function work(userId: string): Promise<void> {
  while (!stopping) {
    const answer = await flux
      .get(`users/${encodeURIComponent(userId)}/receipts`, { context: { scope: userId } })
      .json<{ user: string }>();
    if (answer.user !== userId) throw new Error(`the API answered for ${answer.user}, not ${userId}`);
    requests++;
    if (!served.has(userId)) {
      served.add(userId);
      if (served.size === users.length) console.log('serving every user');
    }
    await sleep(25);
  }
}

await Promise.all(users.map(work));
const { endpointCalls } = tokens.stats();
await tokens.close();
console.log(`stopped on SIGTERM after ${requests} requests for ${served.size} users, ${endpointCalls.total} token requests`);
