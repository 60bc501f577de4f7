import { availableParallelism } from 'node:os';
import { createDefaultEsmPreset, type JestConfigWithTsJest } from 'ts-jest';

// ESM all the way: got and p-queue are ESM-only. See ../shared/TOOLCHAIN.md for the pitfalls
// (experimental VM modules, `.js` specifiers, nock across files) that this file answers.
const preset = createDefaultEsmPreset({ tsconfig: 'tsconfig.json' });

// `FLUX_TEST_IOREDIS=6` runs the suites on ioredis 6 (the devDependency alias `ioredis6`) instead of
// ioredis 5: the peer range takes both, so CI runs the Redis tests on each (`npm run test:ioredis6`,
// which first type-checks lib/, the tests and the bench against ioredis 6: tsconfig.ioredis6.json).
const ioredisMajor = process.env.FLUX_TEST_IOREDIS ?? '5';
if (ioredisMajor !== '5' && ioredisMajor !== '6') {
  throw new Error(`Expected FLUX_TEST_IOREDIS to be 5 or 6, got ${JSON.stringify(ioredisMajor)}`);
}

const config: JestConfigWithTsJest = {
  ...preset,
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    ...(ioredisMajor === '6' ? { '^ioredis$': 'ioredis6' } : {}),
  },
  setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/setup.ts'],
  // The TypeScript that tests start as child processes, transpiled once per run: see the file.
  globalSetup: '<rootDir>/__tests__/helpers/compiled-children.mjs',
  testTimeout: 20_000,
  // A worker per core, and at least three: jest's default (cores - 1) runs the suite serially on a
  // 2-core machine, where many suites wait on child processes, Redis, loopback servers and real
  // time (token lifetimes, delayed replies) rather than on the CPU, so a third worker fills those
  // waits. Every suite works under its own Redis key prefix and on free ports, so they run side by
  // side; the suites that count requests under CPU load drive time with fake clocks or bounds.
  maxWorkers: Math.max(3, availableParallelism()),
  // Without a record of last run's durations (a fresh clone), the Redis suites, which wait on real
  // time, go first rather than last: see the file.
  testSequencer: '<rootDir>/__tests__/helpers/test-sequencer.mjs',
};

export default config;
