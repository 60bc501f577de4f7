/**
 * How a test, a fleet worker or a benchmark reaches Redis: one server by URL, a Redis Cluster by
 * its seed nodes, or a master that Sentinel watches. One description (JSON-safe, so it can cross a
 * process boundary) and one function that makes the ioredis client for it. Independent of jest.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** Where Redis is. Nodes are `host:port`. */
export type RedisSpec =
  | { url: string }
  | { cluster: string[] }
  | { sentinels: string[]; name: string };

/** A client of either kind: the store takes both. */
export type RedisClient = Redis | Cluster;

function hostPort(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(':');
  const port = Number(node.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`Expected a Redis node as host:port, got ${JSON.stringify(node)}`);
  }
  return { host: node.slice(0, at), port };
}

/** Parses a comma-separated list of `host:port` (as in REDIS_CLUSTER_NODES). */
export function parseNodes(list: string): string[] {
  const nodes = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const node of nodes) hostPort(node);
  return nodes;
}

/** What a spec is, for titles and messages. */
export function describeSpec(spec: RedisSpec): string {
  if ('url' in spec) return spec.url;
  if ('cluster' in spec) return `cluster ${spec.cluster.join(',')}`;
  return `sentinel ${spec.name}@${spec.sentinels.join(',')}`;
}

/**
 * A client for `spec`, with `options` for every connection it opens. Its connection errors are
 * left to the caller (an `error` listener is attached, so ioredis prints nothing).
 */
export function createClient(spec: RedisSpec, options: RedisOptions = {}): RedisClient {
  let client: RedisClient;
  if ('url' in spec) {
    client = new Redis(spec.url, options);
  } else if ('cluster' in spec) {
    client = new Cluster(spec.cluster.map(hostPort), { redisOptions: options });
  } else {
    client = new Redis({ ...options, sentinels: spec.sentinels.map(hostPort), name: spec.name });
  }
  client.on('error', () => {});
  return client;
}

/** Resolves when `client` is ready, or rejects after `timeoutMs`. */
export function whenReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis client not ready within ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/** Every key under `prefix`, by SCAN (never KEYS): on each master of a cluster. */
export async function keysUnder(client: RedisClient, prefix: string): Promise<string[]> {
  const nodes: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

/** Deletes every key under `prefix`, and only those (one key per command: a cluster refuses cross-slot ones). */
export async function deleteUnder(client: RedisClient, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  await Promise.all(keys.map((key) => client.unlink(key)));
}
