/**
 * A TypeScript file of this repository run as a child process (its transpiled copy under jest, else
 * `node --import tsx <file> ...args`: see tsNodeArgs), the way the CLI tests, the shutdown test and the process-exit tests need one: jest's NODE_OPTIONS
 * left out of its environment, its output collected, and killed with SIGKILL if it is still running
 * at a deadline (the run then reports `killed: true`, and its test fails on that).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: the children's working directory, so that `tsx`, lib/ and node_modules resolve. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How one run ended, and what it printed. */
export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the deadline killed it. */
  killed: boolean;
  /** From its last output to its exit, in ms. */
  exitAfterOutputMs: number;
}

/** How to run a child. */
export interface ChildOptions {
  /** Arguments after the file. */
  args?: readonly string[];
  /** Added to the environment, over `baseEnv`. */
  env?: Record<string, string>;
  /** The environment to start from: by default this process's, without jest's NODE_OPTIONS. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Piped into its stdin, which is then closed; without it, stdin is not connected. */
  stdin?: string;
  /** Killed with SIGKILL after this many ms. */
  deadlineMs: number;
  /** Called with each complete line it prints on stdout, as it prints it. */
  onLine?: (line: string) => void;
}

/** A started child: the process itself, and its run once it has exited. */
export interface StartedChild {
  child: ChildProcess;
  /** Resolves once it has exited (never rejects: a failure to spawn is in `stderr`). */
  exited: Promise<ChildRun>;
}

/** This process's environment without jest's NODE_OPTIONS (which would make the child a jest VM). */
export function childEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _jestOnly, ...inherited } = process.env;
  return inherited;
}

/**
 * The `node` arguments that run `file` (a TypeScript file of this repository, relative to it or
 * absolute): in jest, its transpiled copy in the mirror that the global setup built
 * (helpers/compiled-children.mjs), started as plain `node`; elsewhere, or for a file the mirror does
 * not hold, the source under tsx.
 */
export function tsNodeArgs(file: string): string[] {
  const mirror = process.env.FLUX_TEST_CHILDREN;
  const path = relative(ROOT, resolve(ROOT, file));
  if (mirror !== undefined && path.endsWith('.ts') && !path.startsWith('..')) {
    const compiled = join(mirror, `${path.slice(0, -'.ts'.length)}.js`);
    if (existsSync(compiled)) return ['--enable-source-maps', compiled];
  }
  return ['--import', 'tsx', file];
}

/** Starts `file` (relative to the repository, or absolute): see {@link tsNodeArgs}. */
export function startTsxChild(file: string, options: ChildOptions): StartedChild {
  return startNodeChild([...tsNodeArgs(file), ...(options.args ?? [])], { ...options, args: [] });
}

/**
 * Starts `node` with exactly `nodeArgs` (flags, then a file or `-e`), for a test that needs flags
 * of its own (an import recorder, `--input-type`); `options.args` is not used.
 */
export function startNodeChild(nodeArgs: readonly string[], options: ChildOptions): StartedChild {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { ...(options.baseEnv ?? childEnv()), ...options.env },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.stdin !== undefined) {
    child.stdin!.on('error', () => {}); // a child that exits before reading stdin closes the pipe
    child.stdin!.end(options.stdin);
  }
  let stdout = '';
  let stderr = '';
  let partial = '';
  let lastOutputAt = performance.now();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    lastOutputAt = performance.now();
    if (!options.onLine) return;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) options.onLine(line);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let killed = false;
  const deadline = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, options.deadlineMs);
  const exited = new Promise<ChildRun>((resolve) => {
    child.on('error', (error) => {
      clearTimeout(deadline);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}spawn failed: ${error.message}`, killed, exitAfterOutputMs: 0 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr, killed, exitAfterOutputMs: performance.now() - lastOutputAt });
    });
  });
  return { child, exited };
}

/** Runs `node ...nodeArgs` to completion (or to its deadline). */
export function runNodeChild(nodeArgs: readonly string[], options: ChildOptions): Promise<ChildRun> {
  return startNodeChild(nodeArgs, options).exited;
}

/** Runs `file` (see {@link tsNodeArgs}) to completion (or to its deadline). */
export function runTsxChild(file: string, options: ChildOptions): Promise<ChildRun> {
  return startTsxChild(file, options).exited;
}

/** Kills `child` with SIGKILL if it is still running: for a test's `finally`. */
export function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
