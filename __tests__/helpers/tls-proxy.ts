/**
 * Real network pieces for the production recipes, all on 127.0.0.1:
 * - a self-signed certificate for 127.0.0.1, made with `openssl` at test time (nothing checked in);
 * - a TLS front: HTTPS on a free port, its plaintext piped to an upstream HTTP server (the emulator);
 * - an outbound proxy that tunnels `CONNECT` requests, as corporate proxies do, and counts them.
 * Each records the client ports it saw, so that a test can prove a connection came through the proxy.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

/** A PEM key and certificate; the certificate is its own CA. */
export interface SelfSigned {
  key: string;
  cert: string;
}

/** A fresh P-256 key and a one-day certificate for IP 127.0.0.1 (as CN and subjectAltName). */
export function selfSignedCertificate(): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), 'flux-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Something listening that a test must close, and the client ports it accepted. */
interface Listening {
  readonly port: number;
  /** The remote port of every connection accepted, in order. */
  readonly clientPorts: number[];
  close(): Promise<void>;
}

async function listen(server: Server | ReturnType<typeof createTlsServer>, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: Server | ReturnType<typeof createTlsServer>, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
}

/** Joins two sockets both ways; either side's end or error ends the other. */
function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
}

/** HTTPS on 127.0.0.1 with `certificate`, forwarding each connection's plaintext to `upstreamPort`. */
export async function startTlsFront(certificate: SelfSigned, upstreamPort: number): Promise<Listening> {
  const clientPorts: number[] = [];
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: certificate.key, cert: certificate.cert }, (tlsSocket) => {
    clientPorts.push(tlsSocket.remotePort!);
    pipeBoth(tlsSocket, connect(upstreamPort, '127.0.0.1'));
  });
  const port = await listen(server, sockets);
  return { port, clientPorts, close: closer(server, sockets) };
}

/** A CONNECT proxy on 127.0.0.1 that tunnels only to 127.0.0.1. */
export interface ConnectProxy extends Listening {
  /** The `host:port` of every CONNECT request tunnelled, in order. */
  readonly tunnels: string[];
  /** The `host:port` of every CONNECT request refused (any host but 127.0.0.1), in order. */
  readonly refused: string[];
  /** The local port of each tunnel's upstream connection: what the target sees as the client port. */
  readonly upstreamPorts: number[];
  /** Requests that were not CONNECT (absolute-URI proxying is not offered). */
  readonly plainRequests: number;
}

export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const refused: string[] = [];
  const upstreamPorts: number[] = [];
  const clientPorts: number[] = [];
  let plainRequests = 0;
  const sockets = new Set<Socket>();
  const server = createHttpServer((_req, res) => {
    plainRequests++;
    res.writeHead(405, { 'content-type': 'text/plain' }).end('This proxy only tunnels (CONNECT)\n');
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const match = /^127\.0\.0\.1:(\d+)$/.exec(target);
    if (match === null) {
      refused.push(target);
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    tunnels.push(target);
    clientPorts.push(client.remotePort!);
    const upstream = connect(Number(match[1]), '127.0.0.1', () => {
      upstreamPorts.push(upstream.localPort!);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      pipeBoth(client, upstream);
    });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  const port = await listen(server, sockets);
  return {
    port,
    tunnels,
    refused,
    upstreamPorts,
    clientPorts,
    get plainRequests() {
      return plainRequests;
    },
    close: closer(server, sockets),
  };
}
