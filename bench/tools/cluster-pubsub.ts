/**
 * Classic against sharded pub/sub on a Redis Cluster, as the store would use them: a script that
 * sets a key and announces it, and a subscriber woken by the announcement. Prints, for each set-up,
 * the write → wake-up latency (p50, p99) and the cluster-bus messages each announcement cost.
 *
 *   REDIS_CLUSTER_NODES=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003 [REDIS_URL=redis://127.0.0.1:6390] \
 *     node --import tsx bench/tools/cluster-pubsub.ts
 *
 * Not a scenario of `npm run bench`: it needs a running cluster, and it informed a design choice
 * (docs/fleet.md, "Pub/sub on a cluster") rather than tracking a figure.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { parseNodes } from '../../__tests__/helpers/redis-client.js';

const WRITES = Number(process.env.WRITES ?? 2_000);
/** One hash tag, so that the key and the shard channel share a slot, as SPUBLISH in a script needs. */
const KEY = '{pubsub-probe}:entry';
const CHANNEL = '{pubsub-probe}:changes';

const percentile = (values: number[], p: number) => values.slice().sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

async function busMessages(ports: number[]): Promise<{ publish: number; shard: number }> {
  let publish = 0;
  let shard = 0;
  for (const port of ports) {
    const node = new Redis(port, '127.0.0.1');
    const info = (await node.cluster('INFO')) as string;
    node.disconnect();
    publish += Number(/cluster_stats_messages_publish_sent:(\d+)/.exec(info)?.[1] ?? 0);
    shard += Number(/cluster_stats_messages_publishshard_sent:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return { publish, shard };
}

async function measure(label: string, publisher: Redis, subscriber: Redis, sharded: boolean, busPorts: number[]): Promise<void> {
  let wake: (() => void) | undefined;
  subscriber.on(sharded ? 'smessage' : 'message', () => wake?.());
  if (sharded) await subscriber.ssubscribe(CHANNEL);
  else await subscriber.subscribe(CHANNEL);
  const script = `redis.call('SET', KEYS[1], ARGV[1]) redis.call('${sharded ? 'SPUBLISH' : 'PUBLISH'}', ARGV[2], KEYS[1]) return 1`;
  const latencies: number[] = [];
  const before = busPorts.length > 0 ? await busMessages(busPorts) : { publish: 0, shard: 0 };
  for (let i = 0; i < WRITES; i++) {
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const started = performance.now();
    await publisher.eval(script, 1, KEY, String(i), CHANNEL);
    await woken;
    latencies.push(performance.now() - started);
  }
  const after = busPorts.length > 0 ? await busMessages(busPorts) : { publish: 0, shard: 0 };
  console.log(
    `${label}: write → wake-up p50 ${percentile(latencies, 50).toFixed(3)} ms, p99 ${percentile(latencies, 99).toFixed(3)} ms; ` +
      `cluster-bus messages per write: ${((after.publish - before.publish) / WRITES).toFixed(2)} publish, ${((after.shard - before.shard) / WRITES).toFixed(2)} shard`,
  );
  subscriber.disconnect();
  publisher.disconnect();
}

const list = process.env.REDIS_CLUSTER_NODES;
if (list === undefined || list === '') {
  console.error('Set REDIS_CLUSTER_NODES to the cluster nodes, e.g. 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003');
  process.exit(2);
}
const ports = parseNodes(list).map((node) => Number(node.slice(node.lastIndexOf(':') + 1)));
const probe = new Redis(ports[0]!, '127.0.0.1');
const slot = (await probe.cluster('KEYSLOT', KEY)) as number;
const ranges = await probe.cluster('SLOTS');
probe.disconnect();
const owner = ranges.find(([from, to]) => slot >= from && slot <= to)![2]![1];
const other = ports.find((p) => p !== owner)!;
const client = (port: number) => new Redis(port, '127.0.0.1');

if (process.env.REDIS_URL) await measure('one Redis, PUBLISH', new Redis(process.env.REDIS_URL), new Redis(process.env.REDIS_URL), false, []);
await measure('cluster, PUBLISH, subscriber on another node', client(owner), client(other), false, ports);
await measure('cluster, PUBLISH, subscriber on the owning node', client(owner), client(owner), false, ports);
await measure('cluster, SPUBLISH, SSUBSCRIBE on the owning node', client(owner), client(owner), true, ports);
process.exit(0);
