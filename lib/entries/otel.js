// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
import { createRequire } from 'node:module';
import { assertBuilt } from './built.cjs';

assertBuilt('otel/index.js');
const built = createRequire(import.meta.url)('../../dist/otel/index.js');

export const {
  DURATION_BUCKETS,
  INSTRUMENTATION_SCOPE,
  METRIC,
  SPAN_ATTRIBUTE,
  SPAN_NAME,
  instrument,
} = built;
