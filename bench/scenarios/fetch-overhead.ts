/**
 * fetch overhead: requests per second through `authFetch(manager, { scope })` against plain
 * `fetch` with a static `Authorization` header, alternated in rounds, every token cached first.
 */
import { managedFetch, staticFetch } from '../lib/api-clients.js';
import { overheadScenario } from '../lib/overhead.js';

export const fetchOverhead = overheadScenario({
  title: 'fetch overhead',
  managedName: 'authFetch(manager, { scope })',
  staticName: 'plain fetch, static header',
  managed: managedFetch,
  static: staticFetch,
});
