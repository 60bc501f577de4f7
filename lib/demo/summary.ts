/**
 * The demo's live progress line and its closing summary table.
 */
import type { DemoProgress, DemoResult } from './run-demo.js';

/** One progress line, without a newline. */
export function progressLine(p: DemoProgress): string {
  const outage = p.outage ? '  [token endpoint DOWN]' : '';
  return `${p.elapsed.toFixed(1)}s  requests ok ${p.ok}  failed ${p.failed}  token calls ${p.tokenCalls}  ${p.remaining.toFixed(0)}s left${outage}`;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

/** The rows of the summary table: label, value. */
export function summaryRows(r: DemoResult): [string, string][] {
  const o = r.options;
  const u = r.unauthorized;
  return [
    ['requests ok', String(r.requests.ok)],
    ['requests failed', String(r.requests.failed) + (r.requests.failed ? `  (${Object.entries(r.failures).map(([k, v]) => `${k}: ${v}`).join(', ')})` : '')],
    ['  via got / via fetch', `${r.requests.viaGot} / ${r.requests.viaFetch}`],
    ['401s by reason', `expired ${u.expired}, wrong user ${u['wrong-user']}, unknown ${u.unknown}, missing ${u.missing}`],
    [
      'token-endpoint calls',
      `${r.tokenCalls.total} (client_credentials ${r.tokenCalls.clientCredentials}, refresh_token ${r.tokenCalls.refreshToken})`,
    ],
    ['  floor: users × duration / lifetime', `${r.tokenCalls.floor}  (${o.users} × ${o.duration} s / ${o.tokenLifetime} s)`],
    [
      '  floor when refreshing ahead',
      `${r.tokenCalls.refreshAheadFloor}  (users × ⌈duration / (lifetime − ${r.tokenCalls.refreshWindowSeconds} s window)⌉)`,
    ],
    ['  failed token calls (retried)', String(r.tokenCalls.failed)],
    ['background refreshes', String(r.backgroundRefreshes)],
    ['latency p50 / p99 / max', `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)} / ${ms(r.latencyMs.max)}`],
    ['peak concurrent token calls', String(r.peakConcurrentTokenCalls)],
  ];
}

/** The title line of the summary: the run's settings. */
export function summaryTitle(r: DemoResult): string {
  const o = r.options;
  return `Summary: ${o.users} users, ${o.concurrency} workers, ${o.duration} s, ${o.tokenLifetime} s tokens, ${o.outage} s endpoint outage`;
}

/** The closing line: OK, or how many requests failed. */
export function verdict(r: DemoResult): string {
  // "token-endpoint calls", not "renewals": the total includes each user's first issue, which in a
  // run shorter than a token lifetime is every call.
  return r.requests.failed === 0
    ? `OK: no request failed; the outage and ${r.tokenCalls.total} token-endpoint calls stayed invisible to the workers.`
    : `FAILED: ${r.requests.failed} request(s) failed.`;
}

/** The summary table, as lines. */
export function summaryLines(r: DemoResult): string[] {
  const rows = summaryRows(r);
  const width = rows.reduce((max, [k]) => Math.max(max, k.length), 0);
  return ['', summaryTitle(r), ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`), '', verdict(r)];
}
