/**
 * Start-up: how long a process takes to start, import the main entry from dist/ and exit, against
 * a bare `node` start that imports nothing, in child processes started one after the other in
 * alternation (bare, entry, got), so that a busy machine slows every kind alike. got alone is
 * measured beside them because it used to be most of the entry's cost: the endpoint client now
 * loads it on its first token request.
 *
 * dist/ is rebuilt first (`npm run build`), so the figure is that of the current source.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fixed, ms } from '../lib/format.js';
import { check, type Scenario } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { Deadline, nowMs } from '../lib/timing.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * What a user imports: the package by its name (a self-reference from the repository's root), which
 * goes through the entry that checks the build (lib/entries/index.js) to dist/index.js.
 */
const ENTRY = 'flux-token-manager';
const TARGET_RATIO = 1.6;
/** No child may take longer than this; a hung one fails the scenario instead of stalling it. */
const CHILD_LIMIT_MS = 10_000;
/** Every round of children must be over by then, however many rounds are left. */
const ROUNDS_LIMIT_MS = 60_000;

/** What each kind of child imports: nothing, the main entry, got alone. */
const KINDS = {
  bare: '',
  entry: `await import(${JSON.stringify(ENTRY)});`,
  got: "await import('got');",
} as const;
type Kind = keyof typeof KINDS;

/** What the child prints last: the CPU time it has used since it started, in ms. */
const PRINT_CPU = 'const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000));';

/**
 * One child process: its wall time from spawn to exit, and the CPU time it used up to the end of
 * its import. On a busy machine the wall time also counts the time spent waiting for a core; the
 * CPU time does not, so it is the steadier of the two.
 */
function timeChild(kind: Kind): { wallMs: number; cpuMs: number } {
  const started = nowMs();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `${KINDS[kind]} ${PRINT_CPU}`], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: CHILD_LIMIT_MS,
  });
  const wallMs = nowMs() - started;
  if (child.status !== 0) throw new Error(`the ${kind} child failed (status ${child.status}): ${String(child.stderr).slice(0, 500)}`);
  return { wallMs, cpuMs: Number(String(child.stdout)) };
}

function build(): number {
  const started = nowMs();
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  if (result.status !== 0) throw new Error(`npm run build failed: ${String(result.stderr).slice(0, 500)}`);
  return nowMs() - started;
}

export const startup: Scenario = async ({ quick, log }) => {
  const runs = quick ? 9 : 21;
  log(`built dist/ in ${ms(build())}`);
  const times: Record<Kind, number[]> = { bare: [], entry: [], got: [] };
  const cpu: Record<Kind, number[]> = { bare: [], entry: [], got: [] };
  // One warm-up of each, so that the file system cache is equally warm for every kind.
  for (const kind of Object.keys(KINDS) as Kind[]) timeChild(kind);
  const deadline = new Deadline(ROUNDS_LIMIT_MS);
  for (let i = 0; i < runs && !deadline.passed; i++) {
    for (const kind of Object.keys(KINDS) as Kind[]) {
      const { wallMs, cpuMs } = timeChild(kind);
      times[kind].push(wallMs);
      cpu[kind].push(cpuMs);
    }
  }
  const bare = median(times.bare);
  const entry = median(times.entry);
  const got = median(times.got);
  const ratio = entry / bare;
  const cpuRatio = median(cpu.entry) / median(cpu.bare);
  const done = times.entry.length;
  log(`median of ${done} starts each: bare node ${ms(bare)}, import 'flux-token-manager' ${ms(entry)}, import 'got' alone ${ms(got)}`);
  log(`the main entry costs ${ms(entry - bare)} over a bare start: ${fixed(ratio)} × (target ≤ ${TARGET_RATIO} ×)`);
  log(`CPU time to the end of the import: bare ${ms(median(cpu.bare))}, main entry ${ms(median(cpu.entry))} (${fixed(cpuRatio)} ×), got alone ${ms(median(cpu.got))}`);
  const notes = [
    'Each figure is the median wall time of a child process that starts, imports and exits; bare, entry and got children alternate.',
    `The CPU time of the same children, which waiting for a busy core does not inflate, gives ${fixed(cpuRatio)} ×.`,
  ];
  if (done < runs) notes.push(`Only ${done} of ${runs} rounds ran within ${ROUNDS_LIMIT_MS / 1000} s: the machine was slow.`);
  return {
    title: 'start-up',
    figure: `${ms(entry)} to import the main entry (${fixed(ratio)} × bare node)`,
    baseline: `bare node ${ms(bare)}; got alone ${ms(got)}`,
    target: `≤ ${TARGET_RATIO} × bare node`,
    checks: [check('main entry / bare node', `${fixed(ratio)} ×`, `≤ ${TARGET_RATIO} ×`, ratio <= TARGET_RATIO)],
    metrics: {
      bareMs: bare,
      entryMs: entry,
      gotMs: got,
      ratio,
      cpuMs: { bare: median(cpu.bare), entry: median(cpu.entry), got: median(cpu.got) },
      cpuRatio,
      samples: times,
    },
    setup: { runs, rounds: done, node: process.version, entry: ENTRY },
    notes,
  };
};
