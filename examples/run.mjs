#!/usr/bin/env node
/**
 * `npm run examples`: runs each example against the emulator, as a user would run it, and checks
 * what it did. It starts the packaged emulator on 127.0.0.1 (a free port), runs each example as a
 * child process (`node --import tsx`, importing `flux-token-manager` as an installed package would,
 * through package.json `exports`, so `npm run build` first), each within a bounded time, then checks
 * its exit code, what it printed, and the token requests the emulator saw. It exits 1 on the first
 * failure. The fleet example needs REDIS_URL; without it, it is skipped with a warning (and fails
 * when CI is set).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, URL } from 'node:url';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { startEmulator } from 'flux-token-manager/emulator';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** No example may run longer than this: a hung one fails the run instead of hanging CI. */
const TIME_LIMIT_MS = 30_000;

/**
 * Runs `examples/<file>` with `env`; `onLine` sees each line it prints, with the child. Resolves with
 * its exit code, signal and output once it has exited, or kills it at the time limit.
 */
function runExample(file, env, onLine = () => {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIME_LIMIT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      const before = stdout.length;
      stdout += chunk;
      for (const line of stdout.slice(stdout.lastIndexOf('\n', before) + 1).split('\n').slice(0, -1)) onLine(line, child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

let failures = 0;
/** Checks one run: exit 0 in time, the expected output, the expected token requests. */
function report(name, result, checks) {
  const problems = [];
  if (result.timedOut) problems.push(`did not finish within ${TIME_LIMIT_MS / 1000} s`);
  else if (result.code !== 0) problems.push(`exited with ${result.code ?? result.signal}`);
  for (const [ok, what] of checks) if (!ok) problems.push(what);
  if (problems.length === 0) {
    process.stdout.write(`ok    ${name}: ${result.stdout.trim().split('\n').at(-1)}\n`);
    return;
  }
  failures++;
  process.stdout.write(`FAIL  ${name}: ${problems.join('; ')}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}---\n`);
}

const emulator = await startEmulator({ host: '127.0.0.1', port: 0 });
const env = { FLUX_TOKEN_URL: emulator.tokenUrl, FLUX_CLIENT_ID: emulator.clientId, FLUX_CLIENT_SECRET: emulator.clientSecret, FLUX_API_URL: emulator.url };
try {
  // got: serves its three users until SIGTERM, which the runner sends once every user was served.
  emulator.resetStats();
  let signalled = false;
  const gotRun = await runExample('got-worker.ts', env, (line, child) => {
    if (line === 'serving every user' && !signalled) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  const gotCalls = emulator.stats().tokenCalls.total;
  report('got-worker.ts', gotRun, [
    [signalled, 'never printed "serving every user", so it was never sent SIGTERM'],
    [/^stopped on SIGTERM after \d+ requests for 3 users, 3 token requests$/m.test(gotRun.stdout), 'did not report its shutdown after SIGTERM for 3 users and 3 token requests'],
    [gotCalls === 3, `the emulator saw ${gotCalls} token requests, expected 3 (one per user)`],
  ]);

  // fetch: 4 rounds over three users, one token each.
  emulator.resetStats();
  const fetchRun = await runExample('fetch-worker.ts', env);
  const fetchCalls = emulator.stats().tokenCalls.total;
  report('fetch-worker.ts', fetchRun, [
    [/^12 requests ok for 3 users, 3 token requests$/m.test(fetchRun.stdout), 'did not report 12 requests for 3 users and 3 token requests'],
    [fetchCalls === 3, `the emulator saw ${fetchCalls} token requests, expected 3`],
  ]);

  // fleet: two processes at once on one Redis namespace cost the endpoint what one costs.
  if (process.env.REDIS_URL) {
    emulator.resetStats();
    const fleetEnv = { ...env, FLUX_KEY_PREFIX: `flux-example-${randomUUID()}:` };
    const runs = await Promise.all([runExample('fleet-worker.ts', fleetEnv), runExample('fleet-worker.ts', fleetEnv)]);
    const fleetCalls = emulator.stats().tokenCalls.total;
    const fromEach = runs.map((run) => Number(/^5 users served, (\d+) token requests from this process$/m.exec(run.stdout)?.[1] ?? NaN));
    runs.forEach((run, i) =>
      report(`fleet-worker.ts (process ${i + 1} of 2)`, run, [[!Number.isNaN(fromEach[i]), 'did not report 5 users served']]),
    );
    report('fleet-worker.ts (the fleet)', { code: 0, stdout: `${fleetCalls} token requests for 5 users from 2 processes\n` }, [
      [fleetCalls === 5, `the emulator saw ${fleetCalls} token requests, expected 5 (one per user, for the whole fleet)`],
      [fromEach[0] + fromEach[1] === 5, `the processes report ${fromEach.join(' + ')} token requests, expected 5 in all`],
    ]);
  } else if (process.env.CI) {
    failures++;
    process.stdout.write('FAIL  fleet-worker.ts: REDIS_URL is not set (CI is set, so this is not skipped)\n');
  } else {
    process.stdout.write('SKIP  fleet-worker.ts: set REDIS_URL to run it (redis://127.0.0.1:6379, say)\n');
  }
} finally {
  await emulator.close();
}
if (failures > 0) {
  process.stdout.write(`${failures} example check(s) failed\n`);
  process.exitCode = 1;
}
