/**
 * got overhead: requests per second through `got.extend(gotAuth(manager))` against the same got
 * with a static `Authorization` header, alternated in rounds. Every token is cached before timing
 * starts, so the figure is the adapter's cost per request: two hooks and a cache hit.
 */
import { managedGot, staticGot } from '../lib/api-clients.js';
import { overheadScenario } from '../lib/overhead.js';

export const gotOverhead = overheadScenario({
  title: 'got overhead',
  managedName: 'got.extend(gotAuth(manager))',
  staticName: 'same got, static header',
  managed: (manager, apiUrl) => managedGot(manager, apiUrl),
  static: staticGot,
});
