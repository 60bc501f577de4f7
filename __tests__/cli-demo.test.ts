// `flux-token demo`, what `npm start` runs, in a short version: a child process against its own
// embedded emulator, with the default 2 s endpoint outage in the middle of a 3 s run.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The run takes about 4 s; it is killed, and the test fails, if it is still going after this. */
const RUN_DEADLINE_MS = 30_000;

describe('flux-token demo', () => {
  it(
    'runs for --duration seconds, exits 0 and prints the summary with no failed request',
    async () => {
      const { NODE_OPTIONS: _jestOnly, ...env } = process.env;
      const result = await new Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'lib/cli.ts', 'demo', '--duration', '3', '--users', '10', '--concurrency', '4'],
          { cwd: ROOT, env, timeout: RUN_DEADLINE_MS, killSignal: 'SIGKILL' },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
            resolve({ code, killed: error?.killed ?? false, stdout, stderr });
          },
        );
      });

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
    },
    RUN_DEADLINE_MS + 5_000,
  );
});
