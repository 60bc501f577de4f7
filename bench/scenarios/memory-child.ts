/**
 * The memory scenario's measurements, in a process of their own started with `--expose-gc`, so
 * that the heap holds nothing but the manager and what it caches, and a full collection can be
 * forced before each reading. Sends one message to its parent: the readings, or an error.
 *
 * Steps: fill 100,000 scopes (A); read the heap. Fill 100,000 more (B), which evicts every scope of
 * A, and read again: the evicted scopes must have left no schedule entry and no timer. Fill 100,000
 * more (C), evicting B: from B to C the heap must not grow (A to B may, once, as hash tables reach
 * their high-water size). Close the manager; read the timers once more.
 */
import { TokenManager, type TimerApi } from '../../lib/index.js';
import { inMemoryGot } from '../lib/in-memory-got.js';
import { ACCESS_TOKEN_CHARS, REFRESH_TOKEN_CHARS } from '../lib/flux-sized-token.js';

export interface MemoryReading {
  heapUsed: number;
  rss: number;
  /** `Timeout` entries of process.getActiveResourcesInfo(): timers that keep the process alive. */
  refTimers: number;
  /** Timers of the manager's (injected, counting) TimerApi that have neither fired nor been cleared, unref'd ones included. */
  managerTimers: number;
  cached: number;
  scheduled: number;
}

export interface MemoryReport {
  scopes: number;
  fillMs: number;
  /** Bytes of token strings per scope: one byte per character (they are ASCII). */
  stringBytesPerScope: number;
  before: MemoryReading;
  afterFill: MemoryReading;
  afterEviction: MemoryReading;
  afterSecondEviction: MemoryReading;
  afterClose: MemoryReading;
  evicted: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('memory-child must run with --expose-gc');

const scopes = Number(process.argv[2] ?? 100_000);
const BATCH = 5_000;

/** setTimeout and clearTimeout that count the timers alive (the manager's scheduler unrefs its one timer). */
const liveTimers = new Set<unknown>();
const countingTimers: TimerApi = {
  setTimeout(callback, ms) {
    const handle: NodeJS.Timeout = setTimeout(() => {
      liveTimers.delete(handle);
      callback();
    }, ms);
    liveTimers.add(handle);
    return handle;
  },
  clearTimeout(handle) {
    liveTimers.delete(handle);
    clearTimeout(handle as NodeJS.Timeout);
  },
};

async function settle(): Promise<void> {
  // Let pending promise jobs and I/O callbacks run, then collect everything twice (weak maps, finalizers).
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc!();
  }
}

async function read(manager: TokenManager | undefined): Promise<MemoryReading> {
  await settle();
  const usage = process.memoryUsage();
  const stats = manager?.stats();
  return {
    heapUsed: usage.heapUsed,
    rss: usage.rss,
    refTimers: process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length,
    managerTimers: liveTimers.size,
    cached: stats?.cached ?? 0,
    scheduled: stats?.scheduled ?? 0,
  };
}

/** Fills scopes `${prefix}-0` ... in batches (one batch's promises at a time, so the peak stays low). */
async function fill(manager: TokenManager, prefix: string): Promise<void> {
  for (let from = 0; from < scopes; from += BATCH) {
    const batch: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(scopes, from + BATCH); i++) batch.push(manager.getToken(`${prefix}-${i}`));
    await Promise.all(batch);
  }
}

async function measure(): Promise<MemoryReport> {
  // Warm up: load and optimise every code path on a throw-away manager, so that code and lazily
  // built structures are in the "before" reading, not counted per scope.
  {
    const warm = new TokenManager({ tokenUrl: 'http://127.0.0.1:9/t', clientId: 'bench', clientSecret: 'bench', request: { got: inMemoryGot({ expiresIn: 86_400 }).got }, maxScopes: 1_000, concurrency: 64 });
    for (let i = 0; i < 3_000; i += 1_000) await Promise.all(Array.from({ length: 1_000 }, (_, j) => warm.getToken(`warm-${i + j}`)));
    await warm.close();
  }
  const source = inMemoryGot({ expiresIn: 86_400 });
  const before = await read(undefined);
  let evicted = 0;
  const manager = new TokenManager({
    tokenUrl: 'http://127.0.0.1:9/auth/oauth/token', // never contacted: the in-memory got answers
    clientId: 'bench',
    clientSecret: 'bench',
    request: { got: source.got },
    maxScopes: scopes,
    concurrency: 64,
    clock: { timers: countingTimers },
  });
  manager.on('evicted', () => evicted++);

  const started = performance.now();
  await fill(manager, 'a');
  const fillMs = performance.now() - started;
  const afterFill = await read(manager);
  await fill(manager, 'b');
  const afterEviction = await read(manager);
  await fill(manager, 'c');
  const afterSecondEviction = await read(manager);
  await manager.close();
  const afterClose = await read(manager);
  return {
    scopes,
    fillMs,
    stringBytesPerScope: ACCESS_TOKEN_CHARS + REFRESH_TOKEN_CHARS,
    before,
    afterFill,
    afterEviction,
    afterSecondEviction,
    afterClose,
    evicted,
  };
}

measure().then(
  (report) => process.send!({ report }, () => process.disconnect()),
  (error: unknown) => process.send!({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.disconnect()),
);
