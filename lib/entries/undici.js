// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
import { createRequire } from 'node:module';
import { assertBuilt } from './built.cjs';

assertBuilt('http/undici.js');
const built = createRequire(import.meta.url)('../../dist/http/undici.js');

export const {
  ForeignOriginError,
  MissingScopeError,
  undiciAuth,
} = built;
