// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
import { createRequire } from 'node:module';
import { assertBuilt } from './built.cjs';

assertBuilt('emulator/index.js');
const built = createRequire(import.meta.url)('../../dist/emulator/index.js');

export const {
  API_FAULTS,
  API_PREFIX,
  EMULATOR_DEFAULTS,
  FLUX_ISSUER,
  MALFORMED_SUCCESS_FAULTS,
  TOKEN_FAULTS,
  TOKEN_PATH,
  TRANSPORT_FAULTS,
  startEmulator,
} = built;
