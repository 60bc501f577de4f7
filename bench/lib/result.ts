/**
 * What a scenario hands back: its headline figure, the floor or baseline measured in the same run,
 * the target, and the checks behind the verdict. The verdict is MET only when every check is met;
 * SKIPPED when the scenario could not run on this machine (a missing tool, named in `skipped`).
 */

/** One measurable promise of a scenario, e.g. "token calls ≤ 1.1 × floor". */
export interface Check {
  /** What is checked, e.g. `token calls`. */
  name: string;
  /** The measured value, as printed. */
  actual: string;
  /** The target, as printed, e.g. `≤ 1,155`. */
  target: string;
  met: boolean;
}

export type Verdict = 'MET' | 'MISSED' | 'ERROR' | 'SKIPPED';

/** A finished scenario. */
export interface ScenarioResult {
  /** The id used by `--only`, e.g. `hot-path`. */
  id: string;
  /** The scenario's name in the table, e.g. `hot path`. */
  title: string;
  /** The headline figure, e.g. `2.91 M getToken/s`. */
  figure: string;
  /** The floor, or the baseline measured in the same run. */
  baseline: string;
  /** The target the figure is judged against. */
  target: string;
  checks: Check[];
  verdict: Verdict;
  /** Raw numbers, for bench/results/latest.json. */
  metrics: Record<string, unknown>;
  /** How the scenario was run: durations, sizes, options. */
  setup: Record<string, unknown>;
  /** Plain sentences: each missed check, and anything the reader must know to trust the figure. */
  notes: string[];
  /**
   * Set when the scenario could not run here (say, no redis-server on PATH): why, and how to fix
   * it. The verdict is then SKIPPED, which does not fail the bench.
   */
  skipped?: string;
  wallMs: number;
}

/** What every scenario receives. */
export interface ScenarioContext {
  /** Shorter durations and sizes, for development; its figures are not published. */
  quick: boolean;
  /** Prints one line of progress or result, indented under the scenario's heading. */
  log(line: string): void;
}

/** A scenario module's entry point. */
export type Scenario = (ctx: ScenarioContext) => Promise<Omit<ScenarioResult, 'verdict' | 'wallMs' | 'id'>>;

/** Builds a check. */
export function check(name: string, actual: string, target: string, met: boolean): Check {
  return { name, actual, target, met };
}

/** MET when every check is met; otherwise MISSED. SKIPPED when the scenario said why it could not run. */
export function verdictOf(checks: readonly Check[], skipped?: string): Verdict {
  if (skipped !== undefined) return 'SKIPPED';
  return checks.length > 0 && checks.every((c) => c.met) ? 'MET' : 'MISSED';
}

/**
 * What a scenario returns when it cannot run on this machine: SKIPPED, with `reason` in the table
 * and `reason` and `remedy` (how to make it run) in the results and the docs.
 */
export function skippedResult(title: string, reason: string, remedy: string, setup: Record<string, unknown> = {}): Omit<ScenarioResult, 'verdict' | 'wallMs' | 'id'> {
  const why = `${reason}; ${remedy}`;
  return { title, figure: `not run: ${reason}`, baseline: '—', target: '—', checks: [], metrics: {}, setup, notes: [`Skipped: ${why}.`], skipped: why };
}
