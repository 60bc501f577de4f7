/**
 * The lock-out scenarios of other OAuth2 servers, against a raw token server on 127.0.0.1 and the real
 * clock: refresh refusals as 200 and 403, `invalid_client` on an authenticated refresh, a transient
 * `invalid_client` for 20 users together, an outage inside the refresh window, and a server whose clock
 * is an hour behind. Prints, for each, how many `getToken` calls failed (and, for the outage, how many
 * of them were issued after the server had recovered) and when the first one succeeded.
 *
 *   node --import tsx bench/tools/lockout-scenarios.ts [path/to/other/checkout/lib/index.ts]
 *
 * Each scenario is bounded in time (3 to 8 s; about 30 s in all). Not a scenario of `npm run bench`:
 * its figures are counts of failures, which the tests assert exactly on an injected clock
 * (token-manager.refusals, token-manager.half-open, token-manager.server-clock ...); this shows them
 * on the real clock, and, given another checkout, what that version does.
 */
import type * as Library from '../../lib/index.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/** The library to measure: this checkout's by default, or another checkout's lib/index.ts (to measure a "before"). */
const libPath = process.argv[2] ?? new URL('../../lib/index.ts', import.meta.url).href;
const { TokenManager } = (await import(libPath.startsWith('/') ? `file://${libPath}` : libPath)) as typeof Library;

type Mode = (form: Record<string, string>, t: number) => { status: number; body: unknown; headers?: Record<string, string> } | undefined;
let n = 0;
function serve(mode: Mode, expiresIn: number | undefined) {
  const start = Date.now();
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(data));
      const t = Date.now() - start;
      const forced = mode(form, t);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (forced) return send(forced.status, forced.body, forced.headers);
      n++;
      const scope = form.grant_type === 'refresh_token' ? form.refresh_token!.split('.')[1] : form.scope;
      send(200, { access_token: `at-${n}`, token_type: 'bearer', ...(expiresIn ? { expires_in: expiresIn } : {}), refresh_token: `rt.${scope}.${n}`, scope });
    });
  });
  return new Promise<{ url: string; close: () => void }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, close: () => { server.closeAllConnections(); server.close(); } })),
  );
}

async function run(name: string, mode: Mode, { users, everyMs, durationMs, expiresIn = 1, options = {}, recoveredAt }: { users: number; everyMs: number; durationMs: number; expiresIn?: number; options?: object; recoveredAt?: number }) {
  const srv = await serve(mode, expiresIn);
  const m = new TokenManager({ clientId: 'c', clientSecret: 's', tokenUrl: srv.url, ...options, refresh: { margin: 100, window: 200, ...(options as { refresh?: object }).refresh } } as ConstructorParameters<typeof TokenManager>[0]);
  const start = Date.now();
  let calls = 0, failed = 0, failedAfterRecovery = 0, firstSuccess: number | undefined;
  await Promise.all(Array.from({ length: users }, async (_, i) => {
    while (Date.now() - start < durationMs) {
      const at = Date.now() - start;
      calls++;
      try { await m.getToken(`user-${i}`); firstSuccess ??= Date.now() - start; }
      catch { failed++; if (recoveredAt !== undefined && at >= recoveredAt) failedAfterRecovery++; }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }));
  await m.close(); srv.close();
  console.log(`${name}: ${failed} of ${calls} getToken calls failed` + (recoveredAt !== undefined ? `, ${failedAfterRecovery} issued after recovery` : '') + `, first success at ${firstSuccess ?? 'never'} ms`);
}

const refresh = (f: Record<string, string>) => f.grant_type === 'refresh_token';
await run('1. refresh answered 200 invalid_grant', (f) => (refresh(f) ? { status: 200, body: { error: 'invalid_grant' } } : undefined), { users: 5, everyMs: 10, durationMs: 4000 });
await run('1. refresh answered 403 invalid_grant', (f) => (refresh(f) ? { status: 403, body: { error: 'invalid_grant' } } : undefined), { users: 5, everyMs: 10, durationMs: 4000 });
await run('2. refresh answered 401 invalid_client (sent with credentials once learned), cc works', (f) => (refresh(f) ? { status: 401, body: { error: 'invalid_client' } } : undefined), { users: 5, everyMs: 10, durationMs: 4000 });
await run('3. 1 s of invalid_client, 20 users together', (_f, t) => (t < 1000 ? { status: 401, body: { error: 'invalid_client' } } : undefined), { users: 20, everyMs: 20, durationMs: 6000, expiresIn: 3600 });
await run('7. tokens of 3 s, 500 from 2 s to 5 s, 10 users at 200/s', (_f, t) => (t >= 2000 && t < 5000 ? { status: 500, body: { error: 'server_error' } } : undefined), { users: 10, everyMs: 50, durationMs: 8000, expiresIn: 3, recoveredAt: 5000, options: { refresh: { margin: 300, window: 750 } } });
const jws = (claims: object) => [Buffer.from(JSON.stringify({ alg: 'RS256', zip: 'GZIP' })).toString('base64url'), gzipSync(JSON.stringify(claims)).toString('base64url'), 'c2ln'].join('.');
await run('5. server 1 h behind, JWS iat/exp of 2 s, no expires_in', (f) => {
  const now = Date.now() - 3_600_000;
  return { status: 200, body: { access_token: jws({ iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 2, restrictedTo: f.scope }), token_type: 'bearer' }, headers: { date: new Date(now).toUTCString() } };
}, { users: 5, everyMs: 50, durationMs: 3000, expiresIn: undefined });
