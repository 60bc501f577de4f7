/**
 * flux-token-manager/emulator: a local Flux token endpoint and per-user API for tests, benchmarks
 * and demos. This file only exports; see docs/emulator.md.
 */
export { startEmulator, type Emulator } from './emulator.js';
export { EMULATOR_DEFAULTS, type EmulatorOptions, type EmulatorClientAuthMethod, type EmulatorRefusalStatus } from './options.js';
export { TOKEN_FAULTS, TRANSPORT_FAULTS, MALFORMED_SUCCESS_FAULTS, API_FAULTS, type TokenFault, type ApiFault, type FaultOptions } from './faults.js';
export type { EmulatorStats, UnauthorizedReason } from './stats.js';
export { FLUX_ISSUER } from './issuer.js';
export { TOKEN_PATH } from './token-route.js';
export { API_PREFIX } from './api-route.js';
