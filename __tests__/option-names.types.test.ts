// The lists of option names that construction checks are typed against their interfaces
// (OptionNames<T>), so that an option added to an interface and not to its list, or the reverse,
// fails `tsc --noEmit` (which type-checks this file: ts-jest only transpiles it). The
// `@ts-expect-error` lines below are the proof: if OptionNames stopped catching either mistake,
// the directive itself would be an error.
import { describe, expect, it } from '@jest/globals';
import type { OptionNames } from '../lib/shared/option-names.js';
import {
  CLOCK_OPTION_NAMES,
  COOLDOWN_OPTION_NAMES,
  MANAGER_OPTION_NAMES,
  RATE_LIMIT_OPTION_NAMES,
  REFRESH_OPTION_NAMES,
  type ClockOptions,
  type CooldownOptions,
  type ManagerRateLimitOptions,
  type ManagerRefreshOptions,
  type TokenManagerOptions,
} from '../lib/manager/manager-options.js';
import {
  ENDPOINT_CLOCK_NAMES,
  ENDPOINT_OPTION_NAMES,
  SEND_OPTION_NAMES,
  type EndpointClockOptions,
  type SendOptions,
  type TokenEndpointOptions,
} from '../lib/endpoint/token-endpoint-options.js';

/** `true` when A and B are the same set of names, else `false`. */
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// Each list names exactly its interface's options: an assignment of `true` to `false` fails.
const agree: [
  SameNames<keyof typeof MANAGER_OPTION_NAMES, keyof TokenManagerOptions>,
  SameNames<keyof typeof REFRESH_OPTION_NAMES, keyof ManagerRefreshOptions>,
  SameNames<keyof typeof RATE_LIMIT_OPTION_NAMES, keyof ManagerRateLimitOptions>,
  SameNames<keyof typeof COOLDOWN_OPTION_NAMES, keyof CooldownOptions>,
  SameNames<keyof typeof CLOCK_OPTION_NAMES, keyof ClockOptions>,
  SameNames<keyof typeof ENDPOINT_OPTION_NAMES, keyof TokenEndpointOptions>,
  SameNames<keyof typeof SEND_OPTION_NAMES, keyof SendOptions>,
  SameNames<keyof typeof ENDPOINT_CLOCK_NAMES, keyof EndpointClockOptions>,
] = [true, true, true, true, true, true, true, true];

// An option of the interface left out of its list fails to compile...
// @ts-expect-error `grant` is missing
const leftOut: OptionNames<ManagerRefreshOptions> = { window: true, jitter: true, margin: true };
// ...and so does a name in the list that the interface does not have.
// @ts-expect-error `reserve` is no option of the manager's rate limit
const extra: OptionNames<ManagerRateLimitOptions> = { limit: true, interval: true, reserve: true };
// The same holds for an interface grown by one option, against the list as it is today.
// @ts-expect-error `jitter` is not in COOLDOWN_OPTION_NAMES
const grown: OptionNames<CooldownOptions & { jitter?: number }> = COOLDOWN_OPTION_NAMES;
// A required option of the interface (`limit`) must be listed too, as `true`.
// @ts-expect-error `limit: false` is not a listed name
const notTrue: OptionNames<ManagerRateLimitOptions> = { limit: false, interval: true };

describe('the typed lists of option names', () => {
  it('agree with their interfaces (checked by tsc; the values are here so that the checks are not dead code)', () => {
    expect(agree.every(Boolean)).toBe(true);
    expect([leftOut, extra, grown, notTrue].map((names) => Object.keys(names))).toEqual([
      ['window', 'jitter', 'margin'],
      ['limit', 'interval', 'reserve'],
      ['base', 'max'],
      ['limit', 'interval'],
    ]);
  });

  it('are the names that construction accepts, group by group', () => {
    expect(Object.keys(REFRESH_OPTION_NAMES)).toEqual(['window', 'jitter', 'margin', 'grant']);
    expect(Object.keys(RATE_LIMIT_OPTION_NAMES)).toEqual(['limit', 'interval']);
    expect(Object.keys(COOLDOWN_OPTION_NAMES)).toEqual(['base', 'max']);
    expect(Object.keys(CLOCK_OPTION_NAMES)).toEqual(['now', 'timers', 'random']);
    expect(Object.keys(SEND_OPTION_NAMES)).toEqual(['timeout', 'retry', 'got']);
    expect(Object.keys(ENDPOINT_CLOCK_NAMES)).toEqual(['now']);
    // The manager's top level is the endpoint's plus its own: one name means one thing in both.
    for (const name of Object.keys(ENDPOINT_OPTION_NAMES)) expect(MANAGER_OPTION_NAMES).toHaveProperty(name, true);
  });
});
