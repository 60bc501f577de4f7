/**
 * Redis commands counted by the server (`INFO commandstats`), so that a scenario can say how many
 * commands its traffic cost without MONITOR, which would slow Redis down. Commands that a Lua script
 * runs (`redis.call`) are counted too, each under its own name, beside the `eval` that ran them.
 */
import type { Redis } from 'ioredis';

/** Calls per command name (lower case), e.g. `{ get: 120, eval: 40, set: 40, publish: 40 }`. */
export type CommandCounts = Record<string, number>;

/** Commands the measuring client sends itself, left out of every count. */
const OWN = new Set(['info', 'ping', 'config|resetstat', 'client|setinfo', 'client|setname']);

/** The server's counters now. */
export async function commandCounts(redis: Redis): Promise<CommandCounts> {
  const info = await redis.info('commandstats');
  const counts: CommandCounts = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = match[1]!.toLowerCase();
    if (!OWN.has(name)) counts[name] = Number(match[2]);
  }
  return counts;
}

/** What `after` counted beyond `before`, without the commands that did not change. */
export function countsSince(before: CommandCounts, after: CommandCounts): CommandCounts {
  const delta: CommandCounts = {};
  for (const [name, calls] of Object.entries(after)) {
    const n = calls - (before[name] ?? 0);
    if (n > 0) delta[name] = n;
  }
  return delta;
}

/** The sum of `counts`. */
export function totalOf(counts: CommandCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
