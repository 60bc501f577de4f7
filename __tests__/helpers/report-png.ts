/**
 * `npm run report:png`: runs the demo with its defaults, writes its HTML report, and screenshots the
 * page in chromium into docs/demo-report.png (the picture in the README).
 *
 *   node --import tsx __tests__/helpers/report-png.ts [out.png]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { demoCommand } from '../../lib/cli/demo-command.js';
import { findChromium, launchChromium } from './chromium.js';

const out = resolve(process.argv[2] ?? 'docs/demo-report.png');
const executablePath = findChromium();
if (executablePath === undefined) {
  console.error('report:png needs chromium: apt-get install -y chromium, or set CHROMIUM_PATH');
  process.exit(1);
}

const dir = await mkdtemp(join(tmpdir(), 'flux-report-'));
try {
  const html = join(dir, 'demo.html');
  const ok = await demoCommand(
    { users: 50, concurrency: 16, duration: 15, tokenLifetime: 5, outage: 2, report: html },
    (line) => console.log(line),
  );
  const browser = await launchChromium(executablePath);
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(pathToFileURL(html).href);
    await page.screenshot({ path: out, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(`Screenshot: ${out}`);
  if (!ok) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
