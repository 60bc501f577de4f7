// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
import { createRequire } from 'node:module';
import { assertBuilt } from './built.cjs';

assertBuilt('http/got.js');
const built = createRequire(import.meta.url)('../../dist/http/got.js');

export const {
  ForeignOriginError,
  MissingScopeError,
  gotAuth,
} = built;
