/**
 * `flux-token demo`: runs the demo with a live progress line on a TTY (plain lines otherwise) and
 * prints the summary; with `--report FILE`, also writes the run's timeline as one HTML page.
 * Resolves to whether every request succeeded.
 */
import { reportHtml } from '../demo/report/html.js';
import { TimelineRecorder } from '../demo/report/timeline-data.js';
import { runDemo, type DemoOptions } from '../demo/run-demo.js';
import { progressLine, summaryLines } from '../demo/summary.js';
import { openReportFile } from './report-file.js';

/** The demo's flags: its options, and where to write the HTML report, if anywhere. */
export interface DemoFlags extends DemoOptions {
  report?: string;
}

/** Runs the demo and prints it. */
export async function demoCommand(flags: DemoFlags, out: (line: string) => void): Promise<boolean> {
  const { report, ...options } = flags;
  const tty = process.stdout.isTTY === true;
  // Opened before the run, so that a path that cannot be written fails now, not after the run.
  const file = report === undefined ? undefined : await openReportFile(report);
  out(
    `Demo: ${options.users} users, ${options.concurrency} workers (half got, half fetch), ${options.duration} s, ` +
      `${options.tokenLifetime} s tokens, against an embedded Flux emulator. No network, no credentials.`,
  );
  const timeline = file === undefined ? undefined : new TimelineRecorder();
  let lastPrinted = 0;
  try {
    const result = await runDemo(options, {
      timeline,
      onProgress: (p) => {
        if (tty) process.stdout.write(`\r\x1b[2K${progressLine(p)}`);
        else if (p.elapsed - lastPrinted >= 1) {
          lastPrinted = Math.floor(p.elapsed);
          out(progressLine(p));
        }
      },
    });
    if (tty) process.stdout.write('\n');
    for (const line of summaryLines(result)) out(line);
    if (file !== undefined && timeline !== undefined) {
      await file.write(() => reportHtml(result, timeline.data()));
      out(`Report: ${report}`);
    }
    return result.requests.failed === 0;
  } finally {
    await file?.discard();
  }
}
