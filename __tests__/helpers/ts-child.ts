/**
 * Runs a TypeScript script of the tests as a child process (`node --import tsx`), for the tests
 * whose question is what a whole process does: whether it exits, with which code, what it printed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How a child ended, and what it printed. `killed`: it ran past its deadline and was killed. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  killed: boolean;
}

/**
 * Runs `script` (a path) with `env` added to this process's environment, minus jest's NODE_OPTIONS.
 * Never rejects for the child's own failure; a child still running after `deadlineMs` is killed.
 */
export function runTsChild(script: string, env: Record<string, string>, deadlineMs: number): Promise<ChildResult> {
  const { NODE_OPTIONS: _jestOnly, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let killed = false;
  const deadline = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, deadlineMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr, killed });
    });
  });
}
