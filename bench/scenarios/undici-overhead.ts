/**
 * undici overhead: requests per second through `undici.request` on an Agent composed with
 * `undiciAuth(manager, { scope })` against a plain Agent with a static `Authorization` header,
 * alternated in rounds, every token cached first: the cost of the interceptor and a cache hit.
 * Then an interceptor that does nothing but set the static header, against the same plain Agent:
 * what composing any interceptor costs.
 */
import { managedUndici, minimalInterceptorUndici, staticUndici } from '../lib/api-clients.js';
import { overheadScenario } from '../lib/overhead.js';

export const undiciOverhead = overheadScenario({
  title: 'undici overhead',
  managedName: 'Agent.compose(undiciAuth(manager, { scope }))',
  staticName: 'plain Agent, static header',
  managed: managedUndici,
  static: staticUndici,
  least: { name: 'an interceptor that only sets the header', make: minimalInterceptorUndici },
});
