/** The state one emulator's routes share. Built once by `startEmulator`, passed to each route. */
import type { ApiFault, FaultSwitch, TokenFault } from './faults.js';
import type { Issuer } from './issuer.js';
import type { OpaqueTokens } from './opaque-tokens.js';
import type { ResolvedEmulatorOptions } from './options.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { StatsRecorder } from './stats.js';

export interface EmulatorContext {
  options: ResolvedEmulatorOptions;
  issuer: Issuer;
  opaqueTokens: OpaqueTokens;
  refreshTokens: RefreshTokens;
  stats: StatsRecorder;
  tokenFault: FaultSwitch<TokenFault>;
  apiFault: FaultSwitch<ApiFault>;
  /** Resolves after `ms` with true, or with false as soon as the emulator closes. */
  wait(ms: number): Promise<boolean>;
}
