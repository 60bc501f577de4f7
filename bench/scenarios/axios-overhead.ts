/**
 * axios overhead: requests per second through an axios instance with `axiosAuth(instance, manager)`
 * against the same axios settings with a static `Authorization` header, alternated in rounds,
 * every token cached first: the cost of two interceptors and a cache hit per request.
 */
import { managedAxios, staticAxios } from '../lib/api-clients.js';
import { overheadScenario } from '../lib/overhead.js';

export const axiosOverhead = overheadScenario({
  title: 'axios overhead',
  managedName: 'axiosAuth(instance, manager)',
  staticName: 'same axios, static header',
  managed: managedAxios,
  static: staticAxios,
});
