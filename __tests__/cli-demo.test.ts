// `flux-token demo`, what `npm start` runs, in a short version: a child process against its own
// embedded emulator, with the default 2 s endpoint outage in the middle of a 3 s run; and its
// `--report` flag, which also writes the run as an HTML page.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { tsNodeArgs } from './helpers/tsx-child.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The run takes about 4 s; it is killed, and the test fails, if it is still going after this. */
const RUN_DEADLINE_MS = 30_000;

interface Run {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
}

/** Runs `flux-token` with `args` in a child process, killed after RUN_DEADLINE_MS. */
function runCli(args: string[]): Promise<Run> {
  const { NODE_OPTIONS: _jestOnly, ...env } = process.env;
  return new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      [...tsNodeArgs('lib/cli/main.ts'), ...args],
      { cwd: ROOT, env, timeout: RUN_DEADLINE_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, killed: error?.killed ?? false, stdout, stderr });
      },
    );
  });
}

describe('flux-token demo', () => {
  it(
    'runs for --duration seconds, exits 0 and prints the summary with no failed request',
    async () => {
      const result = await runCli(['demo', '--duration', '3', '--users', '10', '--concurrency', '4']);

      expect(result).toMatchObject({ code: 0, killed: false, stderr: '' });
      const { stdout } = result;
      expect(stdout).toMatch(/^Demo: 10 users, 4 workers /);
      expect(stdout).toContain('Summary: 10 users, 4 workers, 3 s, 5 s tokens, 2 s endpoint outage');
      expect(stdout).toMatch(/^ {2}requests ok +[1-9]\d*$/m);
      expect(stdout).toMatch(/^ {2}requests failed +0$/m);
      expect(stdout).toMatch(/^ {2}token-endpoint calls +[1-9]\d* \(client_credentials \d+, refresh_token \d+\)$/m);
      expect(stdout).toMatch(/^ {4}floor: users × duration \/ lifetime +6 /m);
      expect(stdout).toMatch(/^ {2}latency p50 \/ p99 \/ max +[\d.]+ ms \/ [\d.]+ ms \/ [\d.]+ ms$/m);
      expect(stdout).toMatch(/^OK: no request failed/m);
      expect(stdout).not.toContain('Report:');
    },
    RUN_DEADLINE_MS + 5_000,
  );

  it(
    'with --report, also writes the run as an HTML page with a lane per user',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'flux-cli-report-'));
      try {
        const file = join(dir, 'demo.html');
        const result = await runCli(['demo', '--duration', '2', '--users', '4', '--concurrency', '2', '--outage', '0', '--report', file]);
        expect(result).toMatchObject({ code: 0, killed: false, stderr: '' });
        expect(result.stdout).toMatch(/^OK: no request failed/m);
        expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`Report: ${file}`);
        const html = await readFile(file, 'utf8');
        expect(html).toMatch(/^<!doctype html>/);
        expect(html.match(/<g class="lane"/g)).toHaveLength(4);
        expect(html).toContain('Summary: 4 users, 2 workers, 2 s, 5 s tokens, 0 s endpoint outage');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    RUN_DEADLINE_MS + 5_000,
  );

  it('fails at once, before the run, when the report cannot be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flux-cli-report-'));
    try {
      const file = join(dir, 'missing-dir', 'demo.html');
      const result = await runCli(['demo', '--duration', '60', '--report', file]);
      expect(result).toMatchObject({ code: 1, killed: false, stdout: '' });
      expect(result.stderr).toBe(`flux-token: Cannot write the report to ${file}: ENOENT: no such file or directory, open '${file}'\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
