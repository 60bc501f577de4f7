/**
 * The library a bench tool measures: this checkout's, or another checkout's, given by the path of
 * its `lib/index.ts` (the Redis entry is taken from the same checkout's `lib/redis/index.ts`), so
 * that one tool measures a version before a change and the version after it with the same code.
 * Fleet workers of that checkout are started from its own `__tests__/fixtures/fleet-worker.ts`.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Library from '../../lib/index.js';
import type * as RedisEntry from '../../lib/redis/index.js';

export interface LibraryUnderTest {
  readonly TokenManager: typeof Library.TokenManager;
  readonly RedisTokenStore: typeof RedisEntry.RedisTokenStore;
  /** The checkout's root directory. */
  readonly root: string;
  /** The checkout and its commit, for the printed figures: `/work/x @ HEAD 1a2b3c4, lib/ of 5d6e7f8`. */
  readonly label: string;
  /**
   * Manager options for this library, from options in today's grouped shape (`request: { timeout }`):
   * a library of 0.1 takes them flat (`timeout`), so that one tool measures both.
   */
  options(grouped: Record<string, unknown>): Record<string, unknown>;
}

/** The option groups of today's `TokenManager`, and the flat 0.1 name of each of their members. */
const FLAT_NAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  request: { timeout: 'timeout', retry: 'retry', got: 'got' },
  clock: { now: 'now', timers: 'timers', random: 'random' },
  refresh: { window: 'refreshWindow', jitter: 'refreshJitter', margin: 'expiryMargin', grant: 'renewWith' },
  rateLimit: { limit: 'intervalCap', interval: 'interval' },
  cooldown: { base: 'cooldown', max: 'maxCooldown' },
};

/** Whether `TokenManager` takes grouped options (today's) rather than flat ones (0.1). */
function takesGroups(TokenManager: typeof Library.TokenManager): boolean {
  try {
    new TokenManager({ clientId: 'probe', clientSecret: 'probe', request: {} } as ConstructorParameters<typeof TokenManager>[0]);
    return true;
  } catch {
    return false;
  }
}

function flatten(grouped: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(grouped)) {
    const members = FLAT_NAMES[name];
    if (members === undefined || typeof value !== 'object' || value === null) flat[name] = value;
    else for (const [member, v] of Object.entries(value)) flat[members[member] ?? member] = v;
  }
  return flat;
}

/** This checkout's root. */
export const OWN_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/**
 * The checkout's commit, and the last commit that changed its lib/ (the version measured), with
 * `+changes` when its lib/ differs from that commit: `HEAD 1a2b3c4, lib/ of 5d6e7f8`.
 */
export function commitOf(root: string): string {
  const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'lib') !== '' ? ' +changes' : '';
    return `HEAD ${git('rev-parse', '--short', 'HEAD')}, lib/ of ${git('log', '-1', '--format=%h', '--', 'lib')}${dirty}`;
  } catch {
    return 'unknown commit';
  }
}

/** The checkout whose `lib/index.ts` is at `indexPath` (undefined: this one). */
export function checkoutRoot(indexPath: string | undefined): string {
  return indexPath === undefined ? OWN_ROOT : resolve(dirname(resolve(indexPath)), '..');
}

/** Loads the library of the checkout whose `lib/index.ts` is at `indexPath` (undefined: this one). */
export async function loadLibrary(indexPath: string | undefined): Promise<LibraryUnderTest> {
  const root = checkoutRoot(indexPath);
  const index = (await import(pathToFileURL(resolve(root, 'lib/index.ts')).href)) as typeof Library;
  const redis = (await import(pathToFileURL(resolve(root, 'lib/redis/index.ts')).href)) as typeof RedisEntry;
  const grouped = takesGroups(index.TokenManager);
  return {
    TokenManager: index.TokenManager,
    RedisTokenStore: redis.RedisTokenStore,
    root,
    label: `${root} @ ${commitOf(root)}`,
    options: (o) => (grouped ? o : flatten(o)),
  };
}

/** The machine's load average over the last minute, to read real-clock figures by: they vary with it. */
export function machineLoad(): string {
  return `load average (1 min) ${loadavg()[0]!.toFixed(1)}`;
}
