/**
 * `npm run bench [-- --quick] [-- --only soak,storm]`: runs every scenario one after the
 * other, prints each figure beside its floor or baseline and a MET / MISSED verdict, then the
 * table. A full run writes bench/results/latest.json and regenerates the table in
 * docs/benchmarks.md; a quick or partial run writes bench/results/dev.json only, so that the
 * published figures always come from a complete run at the published durations and sizes.
 *
 * The exit code is 0 when every scenario ran, even if a target was missed (the bench reports, it
 * does not gate) or a scenario was SKIPPED for want of a tool (the fleet scenario without
 * redis-server), and 1 when a scenario crashed or did not finish in time.
 */
import { parseArgs } from './lib/args.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { updateDocs, writeResults, type RunRecord } from './lib/publish.js';
import { verdictOf, type Scenario, type ScenarioResult } from './lib/result.js';
import { textTable } from './lib/table.js';
import { nowMs, within } from './lib/timing.js';
import { axiosOverhead } from './scenarios/axios-overhead.js';
import { fetchOverhead } from './scenarios/fetch-overhead.js';
import { gotOverhead } from './scenarios/got-overhead.js';
import { hotPath } from './scenarios/hot-path.js';
import { memory } from './scenarios/memory.js';
import { outage } from './scenarios/outage.js';
import { fleet } from './scenarios/fleet.js';
import { fleetColdStart } from './scenarios/fleet-cold-start.js';
import { fleetScale } from './scenarios/fleet-scale.js';
import { soak } from './scenarios/soak.js';
import { startup } from './scenarios/startup.js';
import { storm } from './scenarios/storm.js';
import { undiciOverhead } from './scenarios/undici-overhead.js';

/** In the order of the table in docs/benchmarks.md. The limit stops a scenario that hangs; none normally nears it. */
const SCENARIOS: ReadonlyArray<{ id: string; title: string; run: Scenario; limitMs: number }> = [
  { id: 'hot-path', title: 'hot path', run: hotPath, limitMs: 60_000 },
  { id: 'got-overhead', title: 'got overhead', run: gotOverhead, limitMs: 120_000 },
  { id: 'fetch-overhead', title: 'fetch overhead', run: fetchOverhead, limitMs: 120_000 },
  { id: 'axios-overhead', title: 'axios overhead', run: axiosOverhead, limitMs: 120_000 },
  { id: 'undici-overhead', title: 'undici overhead', run: undiciOverhead, limitMs: 150_000 },
  // Rebuilds dist/, then times child processes that import the main entry against bare ones.
  { id: 'startup', title: 'start-up', run: startup, limitMs: 150_000 },
  { id: 'storm', title: 'storm', run: storm, limitMs: 60_000 },
  { id: 'soak', title: 'soak', run: soak, limitMs: 90_000 },
  { id: 'outage', title: 'outage', run: outage, limitMs: 60_000 },
  { id: 'memory', title: 'memory', run: memory, limitMs: 90_000 },
  // Its own redis-server and fleet of worker processes; SKIPPED without redis-server.
  { id: 'fleet', title: 'fleet', run: fleet, limitMs: 60_000 },
  // 8 processes × 5,000 users for 60 s on one Redis; SKIPPED without redis-server.
  { id: 'fleet-scale', title: 'fleet at scale', run: fleetScale, limitMs: 300_000 },
  // 8 processes against one of 8 × the concurrency, 800 shared cold users; SKIPPED without redis-server.
  { id: 'fleet-cold-start', title: 'fleet cold start', run: fleetColdStart, limitMs: 300_000 },
];

async function runOne(entry: (typeof SCENARIOS)[number], quick: boolean): Promise<ScenarioResult> {
  console.log(`\n▶ ${entry.title}${quick ? ' (quick)' : ''}`);
  const log = (line: string) => console.log(`  ${line}`);
  const started = nowMs();
  try {
    const partial = await within(entry.run({ quick, log }), entry.limitMs, entry.title);
    const verdict = verdictOf(partial.checks, partial.skipped);
    if (verdict === 'SKIPPED') {
      log(`SKIPPED: ${partial.skipped}`);
      return { id: entry.id, ...partial, verdict, wallMs: nowMs() - started };
    }
    const notes = [...partial.notes];
    for (const c of partial.checks) {
      log(`${c.met ? 'met   ' : 'MISSED'} ${c.name}: ${c.actual} (target ${c.target})`);
      if (!c.met) notes.unshift(`Target missed: ${c.name} was ${c.actual}, the target is ${c.target}.`);
    }
    log(verdict === 'MET' ? `verdict: MET` : `verdict: MISSED — ${partial.checks.filter((c) => !c.met).map((c) => c.name).join(', ')} off target`);
    return { id: entry.id, ...partial, verdict, notes, wallMs: nowMs() - started };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`ERROR: ${message}`);
    return {
      id: entry.id,
      title: entry.title,
      figure: 'did not complete',
      baseline: '—',
      target: '—',
      checks: [],
      verdict: 'ERROR',
      metrics: {},
      setup: {},
      notes: [`The scenario failed: ${error instanceof Error ? error.message : String(error)}`],
      wallMs: nowMs() - started,
    };
  }
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), SCENARIOS.map((s) => s.id));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const machine = machineInfo();
  console.log(`flux-token-manager bench${args.quick ? ' (quick: shorter than a full run; figures are for development)' : ''}`);
  console.log(`${describeMachine(machine)} · ${machine.date}`);

  const started = nowMs();
  const results: ScenarioResult[] = [];
  for (const entry of SCENARIOS) {
    if (args.only !== undefined && !args.only.includes(entry.id)) continue;
    results.push(await runOne(entry, args.quick));
  }
  const record: RunRecord = {
    machine,
    mode: args.quick ? 'quick' : 'full',
    only: args.only ?? null,
    wallMs: nowMs() - started,
    results,
  };

  console.log(`\n${textTable(results)}\n`);
  const missed = results.filter((r) => r.verdict === 'MISSED' || r.verdict === 'ERROR');
  const skipped = results.filter((r) => r.verdict === 'SKIPPED');
  if (missed.length > 0) console.log(`Targets not met: ${missed.map((r) => `${r.title} (${r.verdict})`).join(', ')}.`);
  else console.log(skipped.length > 0 ? 'Every target of the scenarios that ran was met.' : 'Every target was met.');
  for (const r of skipped) console.log(`Skipped: ${r.title}: ${r.skipped}.`);

  const published = !args.quick && args.only === undefined;
  const path = await writeResults(record, published ? 'latest' : 'dev');
  if (published) await updateDocs(record);
  console.log(`Wrote ${path}${published ? ' and docs/benchmarks.md' : ' (a quick or partial run does not update docs/benchmarks.md)'}; ${Math.round(record.wallMs / 1000)} s.`);
  return results.some((r) => r.verdict === 'ERROR') ? 1 : 0;
}

// Exit explicitly: a scenario that timed out may have left work running.
process.exit(await main());
