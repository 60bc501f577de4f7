/**
 * A minimal token endpoint on loopback: it answers every request with fresh random Flux-sized
 * tokens and nothing else (no RSA signing, no form checks), so that filling a cache with thousands
 * of scopes takes seconds, not the ~1 ms of CPU per token the emulator spends signing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tokenAnswer } from './flux-sized-token.js';

export interface FastTokenServer {
  readonly tokenUrl: string;
  /** Requests answered so far. */
  readonly calls: number;
  close(): Promise<void>;
}

export async function startFastTokenServer({ expiresIn }: { expiresIn: number }): Promise<FastTokenServer> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      const body = tokenAnswer(expiresIn);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    tokenUrl: `http://127.0.0.1:${port}/auth/oauth/token`,
    get calls() {
      return calls;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
