/**
 * Runs a child `node` from the repository's root, the way a user's process starts: without jest's
 * NODE_OPTIONS (its VM-modules flag), collecting stdout and stderr. A child that has not exited by
 * the deadline is killed and marked `killed`, so a hang fails the test instead of stalling it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How a child ended, and what it printed. */
export interface NodeChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  killed: boolean;
}

/** Runs `node ...args` with `env` added to this process's environment; kills it after `deadlineMs`. */
export function runNode(args: readonly string[], { env = {}, deadlineMs }: { env?: Record<string, string>; deadlineMs: number }): Promise<NodeChildResult> {
  const { NODE_OPTIONS: _jestOnly, ...inherited } = process.env;
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
