/**
 * Memory: heap and RSS per cached scope at 100,000 scopes, with Flux-sized tokens (a 700-character
 * access token and an 88-character refresh token per scope), against the raw size of those
 * strings, when the cache is first filled and once it has turned over twice; and no timer or
 * schedule entry left for scopes once they are evicted.
 *
 * The readings are taken in a child process started with `--expose-gc` (see memory-child.ts).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bytes, fixed, int, ms } from '../lib/format.js';
import { check, type Scenario } from '../lib/result.js';
import { within } from '../lib/timing.js';
import type { MemoryReport } from './memory-child.js';

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const TARGET_OVERHEAD_BYTES = 400;

function signed(n: number): string {
  return `${n >= 0 ? '+' : ''}${fixed(n, 1)}`;
}

function runChild(scopes: number): Promise<MemoryReport> {
  const child = fork(CHILD, [String(scopes)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const answer = new Promise<MemoryReport>((resolve, reject) => {
    child.once('message', (raw) => {
      const message = raw as { report?: MemoryReport; error?: string };
      if (message.report !== undefined) resolve(message.report);
      else reject(new Error(`memory child: ${message.error}`));
    });
    child.once('exit', (code) => reject(new Error(`memory child exited (code ${code}) without a report`)));
  });
  return within(answer, 80_000, 'memory child').finally(() => {
    if (child.exitCode === null) child.kill();
  });
}

export const memory: Scenario = async ({ quick, log }) => {
  const scopes = quick ? 20_000 : 100_000;
  const r = await runChild(scopes);
  const heapPerScope = (r.afterFill.heapUsed - r.before.heapUsed) / r.scopes;
  const rssPerScope = (r.afterFill.rss - r.before.rss) / r.scopes;
  const overhead = heapPerScope - r.stringBytesPerScope;
  // The first eviction round may grow the heap once (hash tables of the cache and of the
  // bookkeeping reach their high-water size); a second round must not: that would be a leak.
  const firstRoundGrowth = (r.afterEviction.heapUsed - r.afterFill.heapUsed) / r.scopes;
  const leakPerScope = (r.afterSecondEviction.heapUsed - r.afterEviction.heapUsed) / r.scopes;
  // The same overhead in a cache that churns: as many scopes cached, after 200,000 evictions.
  const churnedOverhead = (r.afterSecondEviction.heapUsed - r.before.heapUsed) / r.afterSecondEviction.cached - r.stringBytesPerScope;
  // Schedule entries beyond the scopes still cached belong to evicted scopes.
  const leftoverScheduled = r.afterSecondEviction.scheduled - r.afterSecondEviction.cached;
  const evictedTimers = r.afterSecondEviction.managerTimers + r.afterSecondEviction.refTimers - r.before.refTimers;
  const idleTimersAfterClose = r.afterClose.refTimers + r.afterClose.managerTimers - r.before.refTimers;

  log(`filled ${int(r.scopes)} scopes in ${ms(r.fillMs)} (in-memory token answers, real parsing)`);
  log(`heap ${bytes(r.before.heapUsed)} → ${bytes(r.afterFill.heapUsed)}: ${fixed(heapPerScope, 0)} B per scope, of which ${r.stringBytesPerScope} B of token strings → overhead ${fixed(overhead, 0)} B`);
  log(`RSS ${bytes(r.before.rss)} → ${bytes(r.afterFill.rss)}: ${fixed(rssPerScope, 0)} B per scope`);
  log(`evicted ${int(r.evicted)} scopes in two rounds of ${int(r.scopes)} new ones: heap ${signed(firstRoundGrowth)} B per scope after the first, ${signed(leakPerScope)} B after the second → overhead ${fixed(churnedOverhead, 0)} B once churned`);
  log(`after the evictions: cached ${int(r.afterSecondEviction.cached)}, scheduled ${int(r.afterSecondEviction.scheduled)}, timers: ${r.afterSecondEviction.managerTimers} (manager's, unref'd) + ${r.afterSecondEviction.refTimers} (ref'd)`);
  log(`after close(): cached ${r.afterClose.cached}, scheduled ${r.afterClose.scheduled}, timers: ${r.afterClose.managerTimers} (manager) + ${r.afterClose.refTimers} (ref'd)`);

  return {
    title: 'memory',
    figure: `${fixed(heapPerScope, 0)} B heap (${fixed(rssPerScope, 0)} B RSS) per scope at ${int(r.scopes)} scopes: ${fixed(overhead, 0)} B beyond the strings (${fixed(churnedOverhead, 0)} B once churned); ${leftoverScheduled} timers/entries left by evicted scopes`,
    baseline: `token strings: ${r.stringBytesPerScope} B per scope`,
    target: `overhead ≤ ${TARGET_OVERHEAD_BYTES} B per scope, fresh or churned; 0 timers for idle scopes after eviction`,
    checks: [
      check('heap overhead per scope', `${fixed(overhead, 0)} B`, `≤ ${TARGET_OVERHEAD_BYTES} B`, overhead <= TARGET_OVERHEAD_BYTES),
      check('heap overhead per scope once churned', `${fixed(churnedOverhead, 0)} B`, `≤ ${TARGET_OVERHEAD_BYTES} B`, churnedOverhead <= TARGET_OVERHEAD_BYTES),
      check('schedule entries left by evicted scopes', int(leftoverScheduled), '0', leftoverScheduled === 0 && r.evicted === 2 * r.scopes),
      check(`timers for the ${int(r.scopes)} idle scopes cached`, String(evictedTimers), '≤ 1 (one shared, unref\'d)', evictedTimers <= 1),
      check('timers after close()', String(idleTimersAfterClose), '0', idleTimersAfterClose === 0 && r.afterClose.scheduled === 0),
      check('heap growth per eviction round', `${signed(leakPerScope)} B per scope`, '≤ 1% of a scope', leakPerScope <= 0.01 * heapPerScope),
    ],
    metrics: { ...r, heapPerScope, rssPerScope, overheadPerScope: overhead, churnedOverheadPerScope: churnedOverhead, firstRoundGrowth, leakPerScope, leftoverScheduled },
    setup: {
      scopes: r.scopes,
      tokens: '700-char access token + 88-char refresh token per scope (random, ASCII)',
      fill: 'in-memory stand-in for got (real JSON.parse, validation, createToken), concurrency 64',
      process: 'child with --expose-gc; gc() before each reading',
    },
    notes: [],
  };
};
