// `flux-token demo --report FILE` writes the report atomically: to a temporary file in the same
// folder, renamed over FILE once complete. A report that fails to render (here, made to throw)
// leaves FILE as it was, absent or with its former content, and no temporary file behind.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

const RENDER_FAILURE = new RangeError('Maximum call stack size exceeded (a report made to fail)');
let failRender = false;
const realHtml = await import('../lib/demo/report/html.js');
jest.unstable_mockModule('../lib/demo/report/html.js', () => ({
  ...realHtml,
  reportHtml: (...args: Parameters<typeof realHtml.reportHtml>) => {
    if (failRender) throw RENDER_FAILURE;
    return realHtml.reportHtml(...args);
  },
}));
const { demoCommand } = await import('../lib/cli/demo-command.js');

/** The shortest demo: one user, one worker, half a second, no outage. */
const SHORT = { users: 1, concurrency: 1, duration: 0.5, tokenLifetime: 5, outage: 0 };

describe('the demo report file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flux-report-'));
    failRender = false;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is written whole, and nothing else is left in its folder', async () => {
    const report = join(dir, 'run.html');
    const lines: string[] = [];
    await expect(demoCommand({ ...SHORT, report }, (line) => lines.push(line))).resolves.toBe(true);

    expect(await readFile(report, 'utf8')).toMatch(/^<!doctype html>[\s\S]*<\/html>\n?$/i);
    expect(await readdir(dir)).toEqual(['run.html']);
    expect(lines.at(-1)).toBe(`Report: ${report}`);
  }, 30_000);

  it('that fails to render leaves no file, not even an empty one', async () => {
    failRender = true;
    const report = join(dir, 'run.html');

    await expect(demoCommand({ ...SHORT, report }, () => {})).rejects.toBe(RENDER_FAILURE);
    expect(await readdir(dir)).toEqual([]);
  }, 30_000);

  it('that fails to render leaves the former report as it was', async () => {
    failRender = true;
    const report = join(dir, 'run.html');
    await writeFile(report, 'the report of the previous run');

    await expect(demoCommand({ ...SHORT, report }, () => {})).rejects.toBe(RENDER_FAILURE);
    expect(await readFile(report, 'utf8')).toBe('the report of the previous run');
    expect(await readdir(dir)).toEqual(['run.html']);
  }, 30_000);

  it('in a folder that does not exist fails before the run, naming the path', async () => {
    const report = join(dir, 'missing', 'run.html');
    const lines: string[] = [];

    await expect(demoCommand({ ...SHORT, report }, (line) => lines.push(line))).rejects.toThrow(`Cannot write the report to ${report}`);
    expect(lines).toEqual([]);
  });
});
