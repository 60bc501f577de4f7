/**
 * A bounded, seeded random schedule of Redis faults for the chaos test: the same seed always gives
 * the same schedule, so that a failure can be replayed (CHAOS_SEED=<seed>). Pure: it only says what
 * to do and when; the test does it.
 */

/** A seeded generator of numbers in [0, 1) (mulberry32): small, fast, and the same on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed from CHAOS_SEED when it is set (to replay a run), else a new one. */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.CHAOS_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`Expected CHAOS_SEED to be an integer from 0 to 4294967295, got ${JSON.stringify(given)}`);
    return seed;
  }
  return Math.floor(Math.random() * 0x100000000);
}

/** One fault: what, from when (ms after the start), and for how long. */
export type Fault =
  | { kind: 'pause'; atMs: number; ms: number }
  | { kind: 'restart'; atMs: number; downMs: number }
  | { kind: 'delay'; atMs: number; delayMs: number; ms: number }
  | { kind: 'kill-holder'; atMs: number };

/**
 * Each kind of fault once, in a random order, spaced `gapMs` apart from `startMs` (plus up to half
 * a gap of jitter), with random strengths within the bounds below.
 */
export function chaosSchedule(random: () => number, { startMs, gapMs }: { startMs: number; gapMs: number }): Fault[] {
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const kinds: Fault['kind'][] = ['pause', 'restart', 'delay', 'kill-holder'];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds.map((kind, i): Fault => {
    const atMs = startMs + i * gapMs + between(0, gapMs / 2);
    switch (kind) {
      case 'pause':
        return { kind, atMs, ms: between(300, 1_500) };
      case 'restart':
        return { kind, atMs, downMs: between(300, 1_500) };
      case 'delay':
        return { kind, atMs, delayMs: between(600, 1_200), ms: between(1_000, 2_000) };
      case 'kill-holder':
        return { kind, atMs };
    }
  });
}
