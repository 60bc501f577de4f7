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
  return { TokenManager: index.TokenManager, RedisTokenStore: redis.RedisTokenStore, root, label: `${root} @ ${commitOf(root)}` };
}

/** The machine's load average over the last minute, to read real-clock figures by: they vary with it. */
export function machineLoad(): string {
  return `load average (1 min) ${loadavg()[0]!.toFixed(1)}`;
}
