/**
 * A token server whose every answer is a 503 with a 16,000-character HTTP reason phrase, and 40 cold
 * users at once: prints how long the 40 failures took to settle and the longest block of the event
 * loop meanwhile (the library puts the reason phrase, redacted, into its error messages).
 *
 *   node --import tsx bench/tools/reason-phrase-stall.ts [path/to/other/checkout/lib/index.ts]
 *
 * Bounded: 40 requests, no retries. Not a scenario of `npm run bench`: the test
 * (redaction.linear) bounds the redaction's work on inputs up to 1 MB; this shows the effect on a manager.
 */
import type * as Library from '../../lib/index.js';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
/** The library to measure: this checkout's by default, or another checkout's lib/index.ts (to measure a "before"). */
const libPath = process.argv[2] ?? new URL('../../lib/index.ts', import.meta.url).href;
const { TokenManager } = (await import(libPath.startsWith('/') ? `file://${libPath}` : libPath)) as typeof Library;

const reason = 'a-'.repeat(8000);
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(503, reason); res.end(); }); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const manager = new TokenManager({ tokenUrl: `http://127.0.0.1:${port}/token`, clientId: 'c', clientSecret: 's', request: { retry: 0 } });
let longest = 0; let last = performance.now();
const iv = setInterval(() => { const n = performance.now(); longest = Math.max(longest, n - last); last = n; }, 5);
const t0 = performance.now();
const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => manager.getToken(`user-${i}`)));
console.log(`40 cold users, 503 with a 16,000-char reason phrase: settled in ${(performance.now() - t0).toFixed(0)} ms, longest event-loop block ${longest.toFixed(0)} ms, ${results.filter((r) => r.status === 'rejected').length} rejected`);
clearInterval(iv); await manager.close(); server.close();
