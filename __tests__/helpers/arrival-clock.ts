/**
 * A loopback proxy in front of a token endpoint that notes when each request arrives, so that a
 * test can check what the endpoint saw in any window of time (a fleet-wide rate limit), not what
 * the clients meant to send. Requests and answers pass through unchanged.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ArrivalClock {
  /** The proxied endpoint: give it to clients as their `tokenUrl`. */
  readonly tokenUrl: string;
  /** When each request arrived, in ms (performance.now() of this process), in arrival order. */
  readonly arrivals: readonly number[];
  close(): Promise<void>;
}

/** Starts the proxy for the endpoint at `tokenUrl` (an `http:` loopback URL, e.g. the emulator's). */
export async function startArrivalClock(tokenUrl: string): Promise<ArrivalClock> {
  const upstream = new URL(tokenUrl);
  const arrivals: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    arrivals.push(performance.now());
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tokenUrl: `http://127.0.0.1:${port}${upstream.pathname}`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The most arrivals within any window of `windowMs` (each window starting at an arrival). */
export function busiestWindow(arrivals: readonly number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}
