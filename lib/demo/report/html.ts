/**
 * The demo's report: one self-contained HTML page (inline SVG and CSS; no script, no font, no
 * request of any kind, which its Content-Security-Policy also forbids), so that it opens anywhere,
 * offline. It holds the timeline, a note on which users have a lane, and the terminal's summary.
 */
import type { DemoResult } from '../run-demo.js';
import { summaryRows, summaryTitle, verdict } from '../summary.js';
import { chooseLanes } from './lanes.js';
import { el, escapeXml } from './svg.js';
import type { TimelineData } from './timeline-data.js';
import { timelineSvg } from './timeline-svg.js';

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222; margin: 24px; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 16px 0 6px; }
p { margin: 4px 0; max-width: 1200px; }
.note { color: #555; }
svg.timeline { display: block; margin: 12px 0 20px; }
svg text { font-family: inherit; fill: #333; }
svg .label { font-size: 12px; }
svg .tick { font-size: 10px; fill: #777; }
svg .title { font-size: 13px; font-weight: 600; }
svg .legend { font-size: 12px; }
svg .outage-label { font-size: 11px; fill: #a11; }
table { border-collapse: collapse; font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
td { padding: 1px 16px 1px 0; vertical-align: top; }
td.sub { padding-left: 16px; }
.ok { color: #1b5e20; font-weight: 600; }
.failed { color: #b71c1c; font-weight: 600; }
`;

function summaryTable(result: DemoResult): string {
  const rows = summaryRows(result).map(([label, value]) => {
    const sub = label.startsWith('  ');
    return el('tr', {}, [el('td', sub ? { class: 'sub' } : {}, escapeXml(label.trim())), el('td', {}, escapeXml(value))]);
  });
  return el('table', { class: 'summary' }, rows);
}

/** The page for a finished run. */
export function reportHtml(result: DemoResult, timeline: TimelineData, generatedAt = new Date()): string {
  const o = result.options;
  const lanes = chooseLanes(timeline.users);
  const ok = result.requests.failed === 0;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched: the page is complete as it is.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>flux-token demo: token timeline</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    el('h1', {}, 'flux-token demo: the token timeline'),
    el(
      'p',
      {},
      escapeXml(
        `${o.users} users, ${o.concurrency} workers (half got, half fetch), ${o.duration} s, ${o.tokenLifetime} s tokens, ` +
          `${o.outage} s token-endpoint outage in the middle. Each bar is one token, from issue to expiry; ` +
          `it is renewed in its refresh window, before its margin, so that no caller ever holds an expired token.`,
      ),
    ),
    el('p', { class: 'note' }, escapeXml(lanes.note)),
    timelineSvg(timeline, lanes.shown),
    el('h2', {}, escapeXml(summaryTitle(result))),
    summaryTable(result),
    el('p', { class: ok ? 'ok' : 'failed' }, escapeXml(verdict(result))),
    el('p', { class: 'note' }, escapeXml(`Written by flux-token demo --report at ${generatedAt.toISOString()}.`)),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
