// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of lib/, lowest first, and what each folder may import besides itself. An import of
 * any other folder of lib/ fails `npm run lint`; docs/architecture.md explains each layer.
 * `index.ts` is the main entry: it exports the core layers and the fetch adapter only, so that an
 * import of the main entry never loads got's adapter, ioredis, OpenTelemetry, the emulator or the CLI.
 */
const FOLDERS = ['shared', 'endpoint', 'store', 'manager', 'http', 'redis', 'otel', 'emulator', 'demo', 'cli'];
const MAY_IMPORT = {
  shared: [],
  endpoint: ['shared'],
  store: ['shared', 'endpoint'],
  manager: ['shared', 'endpoint', 'store'],
  http: ['shared', 'endpoint', 'store', 'manager'],
  redis: ['shared', 'endpoint', 'store'],
  otel: ['shared', 'endpoint', 'store', 'manager'],
  emulator: ['shared', 'endpoint'],
  demo: ['shared', 'endpoint', 'store', 'manager', 'http', 'emulator'],
  cli: ['shared', 'endpoint', 'store', 'manager', 'http', 'emulator', 'demo'],
};

/** A `no-restricted-imports` pattern group that matches a relative import of `folder`. */
const folderPattern = (folder) => ({
  group: [`**/${folder}/**`, `../${folder}`, `./${folder}`],
  message: `lib/${folder}/ is not a layer this folder may import (see the layer table in eslint.config.js and docs/architecture.md).`,
});
const layerRules = Object.entries(MAY_IMPORT).map(([folder, allowed]) => ({
  files: [`lib/${folder}/**/*.ts`],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          ...FOLDERS.filter((other) => other !== folder && !allowed.includes(other)).map(folderPattern),
          { group: ['**/__tests__/**', '**/bench/**'], message: 'The library never imports a test or a benchmark.' },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/', 'docs/api/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['lib/**/*.ts'],
    rules: {
      // The library reports through events and errors, never the console.
      'no-console': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...layerRules,
  {
    // The package's CommonJS entry points (written by .ci/entry-guards.mjs): require() is their job.
    files: ['lib/entries/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['lib/index.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...['redis', 'otel', 'emulator', 'demo', 'cli'].map(folderPattern),
            {
              group: ['**/http/got.js', '**/http/axios.js', '**/http/undici.js', '**/http/undici-handler.js'],
              message: 'The main entry does not load the got, axios or undici adapters; each is an entry of its own (flux-token-manager/got, /axios, /undici).',
            },
          ],
        },
      ],
    },
  },
);
