/**
 * One process of a fleet that shares its tokens through Redis: start several, and the token endpoint
 * sees one request per user, whichever process asks first. Each process gets a token for every user,
 * calls the API with it, and prints what it did.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 FLUX_TOKEN_URL=... FLUX_CLIENT_ID=... FLUX_CLIENT_SECRET=... \
 *     FLUX_API_URL=... node --import tsx examples/fleet-worker.ts
 *
 * FLUX_KEY_PREFIX (optional) sets the store's key prefix, to keep separate fleets apart in one Redis.
 */
import { Redis } from 'ioredis';
import { authFetch, TokenManager } from 'flux-token-manager';
import { RedisTokenStore } from 'flux-token-manager/redis';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (see the comment at the top of this file)`);
  return value;
}

const api = required('FLUX_API_URL');
const redis = new Redis(required('REDIS_URL'));
const tokens = new TokenManager({
  tokenUrl: required('FLUX_TOKEN_URL'),
  clientId: required('FLUX_CLIENT_ID'),
  clientSecret: required('FLUX_CLIENT_SECRET'),
  store: new RedisTokenStore({ redis, ...(process.env.FLUX_KEY_PREFIX ? { keyPrefix: process.env.FLUX_KEY_PREFIX } : {}) }),
});
// Redis trouble never fails getToken(): the process carries on alone and says so here.
tokens.on('store', (event) => console.error(`store ${event.kind}: ${event.detail}`));

try {
  const users = Array.from({ length: 5 }, (_, i) => `user-${i + 1}`);
  for (const userId of users) {
    const res = await authFetch(tokens, { scope: userId })(`${api}/users/${encodeURIComponent(userId)}`);
    if (!res.ok) throw new Error(`GET ${userId}: HTTP ${res.status}`);
  }
  console.log(`${users.length} users served, ${tokens.stats().endpointCalls.total} token requests from this process`);
} finally {
  await tokens.close(); // closes the store's own connection...
  await redis.quit(); // ...but never yours
}
