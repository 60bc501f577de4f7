/**
 * The HTTP side of the emulator: listening, routing by path, and a close() that leaves nothing
 * behind. A fault such as `hang` keeps a socket open on purpose, so the server tracks its sockets
 * and destroys them on close; otherwise a test run would wait for them, or never exit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { API_PREFIX, handleApiRequest } from './api-route.js';
import type { EmulatorContext } from './context.js';
import { sendJson } from './respond.js';
import { TOKEN_PATH, handleTokenRequest } from './token-route.js';

/** Sends a request to its route. Unknown paths get a JSON 404. */
async function route(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let path: string;
  try {
    path = new URL(req.url ?? '/', 'http://emulator.invalid').pathname;
  } catch {
    path = '/';
  }
  if (path === TOKEN_PATH) return handleTokenRequest(ctx, req, res);
  if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) return handleApiRequest(ctx, req, res, path);
  sendJson(res, 404, { error: 'not_found', error_description: `Known paths: ${TOKEN_PATH}, ${API_PREFIX}/<user id>/...` });
}

/** A listening emulator server. */
export class EmulatorServer {
  readonly #server: Server;
  /** Every open connection, hung ones included: close() destroys them all. */
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | undefined;

  constructor(ctx: EmulatorContext) {
    this.#server = createServer((req, res) => {
      // The emulated server's clock, not the real one: a test that drives time, or sets
      // `clockOffset`, sees a `Date` that agrees with the tokens' `nbf` and `exp`.
      res.setHeader('date', new Date(ctx.options.now()).toUTCString());
      route(ctx, req, res).catch(() => {
        // A bug in a route must not crash the test process or go unanswered.
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
        else res.destroy();
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Listens on `host:port` and resolves to the base URL, e.g. `http://127.0.0.1:40123`. */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', onError);
        const address = this.#server.address() as AddressInfo;
        const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`http://${hostname}:${address.port}`);
      });
    });
  }

  /** Stops listening and destroys every open socket. Idempotent; resolves once fully closed. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}
