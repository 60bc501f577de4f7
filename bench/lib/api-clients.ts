/**
 * The ways the bench calls the emulator's per-user API: got, fetch, axios and undici, each with the
 * token from the manager (through the library's adapters) or with a static header (the baseline). Each
 * returns the HTTP status, after reading the whole body, so that both sides do the same work.
 */
import axios, { type AxiosInstance } from 'axios';
import got, { type Got } from 'got';
import { Agent, request } from 'undici';
import { authFetch } from '../../lib/http/fetch.js';
import { axiosAuth } from '../../lib/http/axios.js';
import { gotAuth } from '../../lib/http/got.js';
import { undiciAuth } from '../../lib/http/undici.js';
import type { TokenManager } from '../../lib/index.js';

/** Calls `GET /users/<user>/receipts` for `user`, resolving to the status. */
export type CallApi = (user: string) => Promise<number>;

/** Static `authorization` header values, per user. */
export type StaticHeaders = ReadonlyMap<string, string>;

/** One got for both arms: no retries (a retry would hide a failure), a timeout so nothing hangs. */
function baseGot(apiUrl: string): Got {
  return got.extend({ prefixUrl: apiUrl, throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: 10_000 } });
}

function pathOf(user: string): string {
  return `users/${encodeURIComponent(user)}/receipts`;
}

/** `got.extend(gotAuth(manager))`, with the user as `context.scope`. */
export function managedGot(manager: TokenManager, apiUrl: string): CallApi {
  const client = baseGot(apiUrl).extend(gotAuth(manager));
  return async (user) => (await client.get(pathOf(user), { context: { scope: user } })).statusCode;
}

/** The same got, with the user's header passed as is. */
export function staticGot(apiUrl: string, headers: StaticHeaders): CallApi {
  const client = baseGot(apiUrl);
  return async (user) => (await client.get(pathOf(user), { headers: { authorization: headers.get(user)! } })).statusCode;
}

/** `authFetch(manager, { scope: user })`, one wrapper per user made up front. */
export function managedFetch(manager: TokenManager, apiUrl: string, users: readonly string[]): CallApi {
  const fetchers = new Map(users.map((user) => [user, authFetch(manager, { scope: user })]));
  return async (user) => {
    const response = await fetchers.get(user)!(`${apiUrl}/${pathOf(user)}`);
    await response.text();
    return response.status;
  };
}

/** Plain `fetch` with the user's header. */
export function staticFetch(apiUrl: string, headers: StaticHeaders): CallApi {
  return async (user) => {
    const response = await fetch(`${apiUrl}/${pathOf(user)}`, { headers: { authorization: headers.get(user)! } });
    await response.text();
    return response.status;
  };
}

/** `Bearer <token>` for each user, from `manager` (one token request per user on a cold cache). */
export async function headersFrom(manager: TokenManager, users: readonly string[]): Promise<Map<string, string>> {
  const tokens = await Promise.all(users.map((user) => manager.getToken(user)));
  return new Map(users.map((user, i) => [user, `Bearer ${tokens[i]!.accessToken}`]));
}

/** `user-1` ... `user-n`. */
export function userIds(n: number, prefix = 'user'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
}

/** One axios for each arm, with the settings of {@link baseGot}: every status resolves, nothing retries. */
function baseAxios(apiUrl: string): AxiosInstance {
  return axios.create({ baseURL: apiUrl, validateStatus: () => true, timeout: 10_000, responseType: 'text' });
}

/** An axios instance with `axiosAuth(instance, manager)`, and the user as each request's `scope`. */
export function managedAxios(manager: TokenManager, apiUrl: string): CallApi {
  const client = baseAxios(apiUrl);
  axiosAuth(client, manager);
  return async (user) => (await client.get(`/${pathOf(user)}`, { scope: user })).status;
}

/** The same axios settings, with the user's header passed as is. */
export function staticAxios(apiUrl: string, headers: StaticHeaders): CallApi {
  const client = baseAxios(apiUrl);
  return async (user) => (await client.get(`/${pathOf(user)}`, { headers: { authorization: headers.get(user)! } })).status;
}

/** `undici.request` through an Agent composed with `undiciAuth`, the user read from the path. */
export function managedUndici(manager: TokenManager, apiUrl: string): CallApi {
  const dispatcher = new Agent().compose(undiciAuth(manager, { scope: (options) => decodeURIComponent(options.path.split('/')[2] ?? '') || undefined }));
  return async (user) => {
    const response = await request(`${apiUrl}/${pathOf(user)}`, { dispatcher });
    await response.body.text();
    return response.statusCode;
  };
}

/**
 * `undici.request` through an Agent composed with the least an interceptor can do: set the user's
 * static header (the user read from the path, as `managedUndici` does) and hand the caller's handler
 * on. What `Dispatcher.compose` itself costs, against which `undiciAuth` is read.
 */
export function minimalInterceptorUndici(apiUrl: string, headers: StaticHeaders): CallApi {
  const dispatcher = new Agent().compose(
    (dispatch) => (options, handler) => dispatch({ ...options, headers: { authorization: headers.get(decodeURIComponent(options.path.split('/')[2] ?? ''))! } }, handler),
  );
  return async (user) => {
    const response = await request(`${apiUrl}/${pathOf(user)}`, { dispatcher });
    await response.body.text();
    return response.statusCode;
  };
}

/** `undici.request` through a plain Agent, with the user's header. */
export function staticUndici(apiUrl: string, headers: StaticHeaders): CallApi {
  const dispatcher = new Agent();
  return async (user) => {
    const response = await request(`${apiUrl}/${pathOf(user)}`, { dispatcher, headers: { authorization: headers.get(user)! } });
    await response.body.text();
    return response.statusCode;
  };
}
