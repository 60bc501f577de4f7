/**
 * What a scenario hands back: its headline figure, the floor or baseline measured in the same run,
 * the target, and the checks behind the verdict. The verdict is MET only when every check is met.
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

export type Verdict = 'MET' | 'MISSED' | 'ERROR';

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
  /** The target, as in issue 6. */
  target: string;
  checks: Check[];
  verdict: Verdict;
  /** Raw numbers, for bench/results/latest.json. */
  metrics: Record<string, unknown>;
  /** How the scenario was run: durations, sizes, options. */
  setup: Record<string, unknown>;
  /** Plain sentences: each missed check, and anything the reader must know to trust the figure. */
  notes: string[];
  wallMs: number;
}

/** What every scenario receives. */
export interface ScenarioContext {
  /** Shorter durations and sizes, for development; its figures are not the issue's. */
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

/** MET when every check is met; otherwise MISSED. */
export function verdictOf(checks: readonly Check[]): Verdict {
  return checks.length > 0 && checks.every((c) => c.met) ? 'MET' : 'MISSED';
}
