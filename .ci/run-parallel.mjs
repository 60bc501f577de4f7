// Runs the given npm scripts at once and fails if any of them fails, each one's output kept
// together: `npm test` type-checks and lints side by side, as the two share nothing.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import process from 'node:process';

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  process.stderr.write('usage: node .ci/run-parallel.mjs <npm script> [<npm script> ...]\n');
  process.exit(2);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const results = await Promise.all(
  scripts.map(
    (script) =>
      new Promise((resolve) => {
        const child = spawn(npm, ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
        const output = [];
        child.stdout.on('data', (chunk) => output.push(chunk));
        child.stderr.on('data', (chunk) => output.push(chunk));
        child.on('close', (code) => resolve({ script, code, output: Buffer.concat(output).toString() }));
      }),
  ),
);
for (const { script, code, output } of results) {
  process.stdout.write(`> ${script}: ${code === 0 ? 'ok' : `failed (exit ${code})`}\n${output}`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
