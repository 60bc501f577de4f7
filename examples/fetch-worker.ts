/**
 * A worker that calls the Flux API with fetch: one wrapped fetch for every user, which reads the user
 * from the request's path, so that each request carries its own user's token. It makes a few requests
 * per user, and prints what it did.
 *
 *   FLUX_TOKEN_URL=... FLUX_CLIENT_ID=... FLUX_CLIENT_SECRET=... FLUX_API_URL=... \
 *     node --import tsx examples/fetch-worker.ts
 */
import { authFetch, TokenManager } from 'flux-token-manager';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (see the comment at the top of this file)`);
  return value;
}

const api = required('FLUX_API_URL');
// `await using` closes the manager when the module's top level ends, whatever happens.
await using tokens = new TokenManager({
  tokenUrl: required('FLUX_TOKEN_URL'),
  clientId: required('FLUX_CLIENT_ID'),
  clientSecret: required('FLUX_CLIENT_SECRET'),
});

// The user is the path's second segment, percent-decoded: `jane%40example.com` is `jane@example.com`.
const fluxFetch = authFetch(tokens, {
  scope: (request) => decodeURIComponent(new URL(request.url).pathname.split('/')[2] ?? ''),
});

const users = ['ada', 'grace', 'jane@example.com'];
const ROUNDS = 4;
let ok = 0;
for (let round = 0; round < ROUNDS; round++) {
  await Promise.all(
    users.map(async (userId) => {
      const res = await fluxFetch(`${api}/users/${encodeURIComponent(userId)}/receipts`);
      if (!res.ok) throw new Error(`GET receipts of ${userId}: HTTP ${res.status}`);
      const answer = (await res.json()) as { user: string };
      if (answer.user !== userId) throw new Error(`the API answered for ${answer.user}, not ${userId}`);
      ok++;
    }),
  );
}
console.log(`${ok} requests ok for ${users.length} users, ${tokens.stats().endpointCalls.total} token requests`);
