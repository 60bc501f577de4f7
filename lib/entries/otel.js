// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
import { assertBuilt } from './built.cjs';

assertBuilt('otel/index.js');
const built = await import('../../dist/otel/index.js');

export const {
  DURATION_BUCKETS,
  INSTRUMENTATION_SCOPE,
  METRIC,
  SPAN_ATTRIBUTE,
  SPAN_NAME,
  instrument,
} = built;
