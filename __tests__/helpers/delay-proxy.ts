/**
 * A loopback TCP proxy in front of a Redis that holds every reply back by a settable delay: a slow
 * Redis on a live connection (a busy server, a saturated link), which `CLIENT PAUSE` cannot stand
 * for since it also stops the test's own admin client. Commands pass at once; each chunk of a
 * reply is delivered `delayMs` after it arrived, in order, so throughput is kept and only latency
 * grows. Independent of jest, so that a fleet worker or a benchmark can use it too.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface DelayProxy {
  /** `redis://127.0.0.1:<port>`: give it to the clients that should see the delay. */
  readonly url: string;
  readonly port: number;
  /** Delay applied to reply chunks that arrive from now on, in ms (0: none). */
  delayMs: number;
  /** Closes the listener and every connection through it. */
  close(): Promise<void>;
}

/** Starts a proxy to the Redis at `target` (`redis://host:port`), delaying replies by `delayMs`. */
export async function startDelayProxy(target: string, delayMs = 0): Promise<DelayProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const proxy: DelayProxy = { url: '', port: 0, delayMs, close: async () => {} };
  const server = createServer((client) => {
    track(client);
    const redis = connect(Number(upstream.port || 6379), upstream.hostname);
    track(redis);
    client.pipe(redis);
    // Each chunk leaves no sooner than its own due time, and never before the chunk ahead of it.
    let tail = Promise.resolve();
    redis.on('data', (chunk: Buffer) => {
      const due = Date.now() + proxy.delayMs;
      tail = tail.then(
        () =>
          new Promise<void>((resolve) => {
            const wait = due - Date.now();
            const deliver = () => {
              if (!client.destroyed) client.write(chunk);
              resolve();
            };
            if (wait <= 0) deliver();
            else setTimeout(deliver, wait);
          }),
      );
    });
    const end = () => {
      client.destroy();
      redis.destroy();
    };
    client.on('error', end).on('close', end);
    redis.on('error', end).on('close', () => void tail.then(end));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(proxy, {
    url: `redis://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
  return proxy;
}
