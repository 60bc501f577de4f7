// `flux-token demo --report`: a short real demo run (embedded emulator, a token-endpoint outage in
// the middle), its HTML page checked for secrets, then opened in Debian's chromium through
// playwright-core: one lane per user, one bar per token the emulator issued, nothing fetched.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import got from 'got';
import { EMULATOR_DEFAULTS } from '../lib/emulator/index.js';
import { reportHtml } from '../lib/demo/report/html.js';
import { TimelineRecorder } from '../lib/demo/report/timeline-data.js';
import { runDemo, type DemoResult } from '../lib/demo/run-demo.js';
import { findChromium, launchChromium } from './helpers/chromium.js';
import { IN_CI } from './helpers/redis.js';

const USERS = 3;
/** The run takes about 3 s, plus chromium's start. */
const DEADLINE_MS = 90_000;

const executablePath = findChromium();
if (executablePath === undefined && !IN_CI) {
  process.stderr.write(
    '\n*** SKIPPED: the browser test of the demo report needs chromium (apt-get install -y chromium, or set CHROMIUM_PATH). ***\n\n',
  );
}
const browserIt = executablePath === undefined && !IN_CI ? it.skip : it;

let dir: string;
let file: string;
let html: string;
let result: DemoResult;
/** Every access and refresh token the emulator handed out during the run. */
const issued: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flux-demo-report-'));
  file = join(dir, 'demo.html');
  const timeline = new TimelineRecorder();
  // Reads the token answers as they arrive, to know what must not appear in the page.
  const tokenGot = got.extend({
    hooks: {
      afterResponse: [
        (response) => {
          if (response.statusCode === 200) {
            const body = JSON.parse(String(response.body)) as { access_token?: unknown; refresh_token?: unknown };
            for (const value of [body.access_token, body.refresh_token]) if (typeof value === 'string') issued.push(value);
          }
          return response;
        },
      ],
    },
  });
  result = await runDemo({ users: USERS, concurrency: 2, duration: 3, tokenLifetime: 2, outage: 1 }, { timeline, tokenGot });
  html = reportHtml(result, timeline.data());
  await writeFile(file, html);
}, DEADLINE_MS);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the demo report page', () => {
  it('holds no access token, refresh token or client secret', () => {
    // One access and one refresh token per issued token: the capture saw them all.
    const issuedCount = Object.values(result.tokenCalls.issuedByScope).reduce((a, b) => a + b, 0);
    expect(issued).toHaveLength(2 * issuedCount);
    expect(issuedCount).toBeGreaterThanOrEqual(USERS);
    for (const secret of [...issued, EMULATOR_DEFAULTS.clientSecret]) expect(html).not.toContain(secret);
    // Nor the signature of an access token (its most secret-looking part) on its own.
    for (const token of issued.filter((t) => t.split('.').length === 3)) expect(html).not.toContain(token.split('.')[2]);
  });

  it('has no script, and nothing to load from anywhere', () => {
    expect(html).not.toMatch(/<script|\bsrc=|\bhref=|@import|url\(/i);
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
  });

  browserIt(
    'draws one lane per user and one bar per issued token in chromium, fetching nothing',
    async () => {
      if (executablePath === undefined) throw new Error('chromium is missing (apt-get install -y chromium, or set CHROMIUM_PATH). CI is set, so this is a failure, not a skip: .ci/run installs it.');
      const chromium = await launchChromium(executablePath);
      try {
        const page = await chromium.context.newPage();
        const requested: string[] = [];
        page.on('request', (request) => requested.push(request.url()));
        await page.setViewportSize({ width: 1280, height: 800 });
        const url = pathToFileURL(file).href;
        await page.goto(url);

        expect(requested).toEqual([url]);
        const lanes = page.locator('svg.timeline g.lane');
        expect(await lanes.count()).toBe(USERS);
        const drawn: Record<string, number> = {};
        for (const lane of await lanes.all()) {
          drawn[(await lane.getAttribute('data-user'))!] = await lane.locator('g.token').count();
        }
        const expected = Object.fromEntries(Array.from({ length: USERS }, (_, i) => [`user-${i}`, result.tokenCalls.issuedByScope[`user-${i}`]]));
        expect(drawn).toEqual(expected);
        // Every answer of the token endpoint is on the strip; the failed ones in red.
        expect(await page.locator('line.call-ok').count()).toBe(result.tokenCalls.total - result.tokenCalls.failed);
        expect(await page.locator('line.call-failed').count()).toBe(result.tokenCalls.failed);
        expect(await page.locator('g.outage').count()).toBe(1);
        expect(await page.locator('table.summary tr').count()).toBeGreaterThan(5);

        const shot = join(dir, 'demo-report.png');
        await page.screenshot({ path: shot, fullPage: true });
        const png = await readFile(shot);
        expect(png.subarray(1, 4).toString()).toBe('PNG');
        expect(png.length).toBeGreaterThan(10_000);
      } finally {
        await chromium.close();
      }
    },
    DEADLINE_MS,
  );
});
