/**
 * A child process for the axios test of a retry behind an unread 401 stream. It runs outside jest
 * because jest's setup loads nock, whose interceptors change how Node's agent pools sockets.
 *
 * A server answers the first request with a 401 whose body (1 MiB) is larger than the stream
 * buffers, and keeps idle sockets open for 10 minutes; axios uses a keep-alive agent of one
 * socket and `responseType: 'stream'`. If the 401's stream held its socket, the retry would wait
 * for it forever (the test's deadline kills the child). Starts its own emulator, and prints what
 * the server saw.
 */
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { axiosAuth } from '../../lib/http/axios.js';
import { TokenManager } from '../../lib/manager/token-manager.js';
import { startEmulator } from '../../lib/emulator/index.js';

const emulator = await startEmulator();
const manager = new TokenManager({ clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: emulator.tokenUrl, request: { retry: 0 } });
const expired = 'x'.repeat(1024 * 1024);
let answered = 0;
let connections = 0;
const server = createServer((_req, res) => {
  answered += 1;
  res.writeHead(answered === 1 ? 401 : 200, { 'content-type': 'text/plain' });
  res.end(answered === 1 ? expired : 'ok');
});
server.keepAliveTimeout = 600_000;
server.on('connection', () => (connections += 1));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const httpAgent = new Agent({ keepAlive: true, maxSockets: 1 });

// validateStatus accepts the 401, so axios hands it to the interceptor with its stream unread.
const instance = axios.create({ httpAgent, responseType: 'stream', validateStatus: () => true });
axiosAuth(instance, manager, { allowedOrigins: [origin] });
const response = await instance.get<NodeJS.ReadableStream>(`${origin}/x`, { scope: 'user-1' });
let body = '';
for await (const chunk of response.data) body += String(chunk);

process.stdout.write(`${JSON.stringify({ status: response.status, body, answered, connections, tokenCalls: emulator.stats().tokenCalls.byGrant })}\n`);
httpAgent.destroy();
server.closeAllConnections();
server.close();
await manager.close();
await emulator.close();
