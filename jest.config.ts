import { createDefaultEsmPreset, type JestConfigWithTsJest } from 'ts-jest';

// ESM all the way: got and p-queue are ESM-only. See ../shared/TOOLCHAIN.md for the pitfalls
// (experimental VM modules, `.js` specifiers, nock across files) that this file answers.
const preset = createDefaultEsmPreset({ tsconfig: 'tsconfig.json' });

const config: JestConfigWithTsJest = {
  ...preset,
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/setup.ts'],
  testTimeout: 20_000,
};

export default config;
