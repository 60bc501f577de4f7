/**
 * Starts Debian's `chromium` (not a browser downloaded by Playwright, which cannot be fetched here)
 * through playwright-core, headless, with a fresh profile and no background network traffic. Used
 * by the report's browser test and by `npm run report:png`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Flags for a quiet, headless chromium in a container: no GPU, no sandbox, nothing fetched in the background. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where chromium is: `$CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`; undefined when neither exists. */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'];
  return candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path));
}

/** A running chromium; `close()` stops it and removes its profile. */
export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches chromium at `executablePath` with a fresh, temporary profile. */
export async function launchChromium(executablePath: string): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'flux-chromium-'));
  try {
    // A persistent context is how Playwright takes a profile directory (`--user-data-dir`).
    const context = await chromium.launchPersistentContext(profile, { executablePath, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
    return {
      context,
      close: async () => {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}
