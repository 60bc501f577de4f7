/**
 * `flux-token demo`: runs the demo with a live progress line on a TTY (plain lines otherwise) and
 * prints the summary. Resolves to whether every request succeeded.
 */
import { runDemo, type DemoOptions } from '../demo/run-demo.js';
import { progressLine, summaryLines } from '../demo/summary.js';

/** Runs the demo and prints it. */
export async function demoCommand(options: DemoOptions, out: (line: string) => void): Promise<boolean> {
  const tty = process.stdout.isTTY === true;
  out(
    `Demo: ${options.users} users, ${options.concurrency} workers (half got, half fetch), ${options.duration} s, ` +
      `${options.tokenLifetime} s tokens, against an embedded Flux emulator. No network, no credentials.`,
  );
  let lastPrinted = 0;
  const result = await runDemo(options, (p) => {
    if (tty) process.stdout.write(`\r\x1b[2K${progressLine(p)}`);
    else if (p.elapsed - lastPrinted >= 1) {
      lastPrinted = Math.floor(p.elapsed);
      out(progressLine(p));
    }
  });
  if (tty) process.stdout.write('\n');
  for (const line of summaryLines(result)) out(line);
  return result.requests.failed === 0;
}
