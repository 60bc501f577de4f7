/**
 * The traffic of the soak and the outage: half the workers call through got, half through fetch,
 * and the users are taken in turn, so that every user is in use all the time on both adapters.
 */
import type { CallApi } from './api-clients.js';
import type { SendRequest } from './load.js';

export function mixedTraffic(viaGot: CallApi, viaFetch: CallApi, users: readonly string[]): SendRequest {
  let next = 0;
  return (worker) => {
    const user = users[next++ % users.length]!;
    return worker % 2 === 0 ? viaGot(user) : viaFetch(user);
  };
}

/** The total of a `Record<string, number>`, e.g. 401s by reason. */
export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
