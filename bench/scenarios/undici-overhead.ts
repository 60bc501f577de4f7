/**
 * undici overhead: requests per second through `undici.request` on an Agent composed with
 * `undiciAuth(manager, { scope })` against a plain Agent with a static `Authorization` header,
 * alternated in rounds, every token cached first: the cost of the interceptor and a cache hit.
 */
import { managedUndici, staticUndici } from '../lib/api-clients.js';
import { overheadScenario } from '../lib/overhead.js';

export const undiciOverhead = overheadScenario({
  title: 'undici overhead',
  managedName: 'Agent.compose(undiciAuth(manager, { scope }))',
  staticName: 'plain Agent, static header',
  managed: managedUndici,
  static: staticUndici,
});
