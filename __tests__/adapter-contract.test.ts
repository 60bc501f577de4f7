/**
 * The shared adapter contract (helpers/adapter-contract.ts), run once per adapter: got, fetch,
 * axios and undici each pass the same table. Each driver below only translates a contract request
 * into its client's own API.
 */
import { Readable } from 'node:stream';
import axios from 'axios';
import got, { RequestError } from 'got';
import { Agent, interceptors, request } from 'undici';
import { gotAuth } from '../lib/http/got.js';
import { authFetch } from '../lib/http/fetch.js';
import { axiosAuth } from '../lib/http/axios.js';
import { undiciAuth } from '../lib/http/undici.js';
import type { TokenManager } from '../lib/manager/token-manager.js';
import { runAdapterContract, type AdapterDriver, type ContractClient, type ContractOptions, type ContractRequest } from './helpers/adapter-contract.js';

/** A JSON body when there is one, else the text. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A Node stream of the contract request's chunks. */
const nodeStream = (chunks: string[]) => Readable.from(chunks.map((chunk) => Buffer.from(chunk)));

/** A web ReadableStream of the contract request's chunks. */
function webStream(chunks: string[]): ReadableStream<Uint8Array> {
  const queue = chunks.map((chunk) => new TextEncoder().encode(chunk));
  return new ReadableStream({
    pull(controller) {
      const next = queue.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

/** For clients without a per-request user: one client per user, built with that user as `scope`. */
function perUser(build: (options: ContractOptions) => (url: string, request: ContractRequest) => Promise<{ status: number; body: unknown }>, options: ContractOptions): ContractClient {
  const clients = new Map<string | null | undefined, (url: string, request: ContractRequest) => Promise<{ status: number; body: unknown }>>();
  return {
    send(url, request = {}) {
      const key = request.user;
      let send = clients.get(key);
      if (send === undefined) {
        send = build(key === undefined ? options : { ...options, scope: key });
        clients.set(key, send);
      }
      return send(url, request);
    },
  };
}

const gotDriver: AdapterDriver = {
  name: 'gotAuth',
  client(manager: TokenManager, { scope, ...rest }: ContractOptions): ContractClient {
    const client = got.extend(
      gotAuth(manager, { ...rest, ...(scope === undefined ? {} : { scope: typeof scope === 'function' ? (o) => scope(o.url as URL) : scope }) }),
      { retry: { limit: 0 }, throwHttpErrors: false },
    );
    return {
      async send(url, { user, method = 'GET', body, stream, headers } = {}) {
        const response = await client(url, { method: method as 'GET', body: stream === undefined ? body : nodeStream(stream), headers, context: user === undefined ? {} : { scope: user } });
        return { status: response.statusCode, body: parsed(response.body) };
      },
    };
  },
  unwrap: (error) => (error instanceof RequestError ? error.cause : error),
};

const fetchDriver: AdapterDriver = {
  name: 'authFetch',
  client(manager: TokenManager, options: ContractOptions): ContractClient {
    return perUser(({ scope, ...rest }) => {
      const send = authFetch(manager, { ...rest, ...(scope === undefined ? {} : { scope: typeof scope === 'function' ? (r: Request) => scope(new URL(r.url)) : scope }) });
      return async (url, { method = 'GET', body, stream, headers }) => {
        const init: RequestInit = stream === undefined ? { method, body, headers } : { method, body: webStream(stream), headers, duplex: 'half' } as RequestInit;
        const response = await send(url, init);
        return { status: response.status, body: parsed(await response.text()) };
      };
    }, options);
  },
  unwrap: (error) => error,
};

const axiosDriver: AdapterDriver = {
  name: 'axiosAuth',
  client(manager: TokenManager, { scope, ...rest }: ContractOptions): ContractClient {
    const instance = axios.create({ validateStatus: () => true, responseType: 'text', transformResponse: [(data: unknown) => data] });
    axiosAuth(instance, manager, { ...rest, ...(scope === undefined ? {} : { scope: typeof scope === 'function' ? (c) => scope(new URL(instance.getUri(c))) : scope }) });
    return {
      async send(url, { user, method = 'GET', body, stream, headers } = {}) {
        const data = stream === undefined ? body : nodeStream(stream);
        const response = await instance.request<string>({ url, method, data, headers, ...(user === undefined ? {} : { scope: user }) });
        return { status: response.status, body: parsed(response.data) };
      },
    };
  },
  unwrap: (error) => error,
};

/** The agents the undici driver opened, closed after each test. */
const agents: Agent[] = [];

const undiciDriver: AdapterDriver = {
  name: 'undiciAuth',
  client(manager: TokenManager, options: ContractOptions): ContractClient {
    return perUser(({ scope, ...rest }) => {
      const agent = new Agent();
      agents.push(agent);
      const dispatcher = agent.compose(
        interceptors.redirect({ maxRedirections: 3 }),
        undiciAuth(manager, { ...rest, ...(scope === undefined ? {} : { scope: typeof scope === 'function' ? (o) => scope(new URL(o.path, o.origin)) : scope }) }),
      );
      return async (url, { method = 'GET', body, stream, headers }) => {
        const response = await request(url, { dispatcher, method: method as 'GET', body: stream === undefined ? body : nodeStream(stream), headers });
        return { status: response.statusCode, body: parsed(await response.body.text()) };
      };
    }, options);
  },
  unwrap: (error) => error,
  close: async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.close()));
  },
};

for (const driver of [gotDriver, fetchDriver, axiosDriver, undiciDriver]) runAdapterContract(driver);
