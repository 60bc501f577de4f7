/**
 * Child-process entry that runs one emulator and answers its parent's requests over IPC.
 *
 * The bench runs the emulator in its own process so that its work (RSA signing, about 1 ms per
 * token, and answering the API) does not share an event loop with the client being measured: on
 * the real system the token endpoint and the API are on other machines.
 */
import { startEmulator, type EmulatorOptions, type TokenFault } from '../../lib/emulator/index.js';
import type { EmulatorReply, EmulatorRequest } from './emulator-protocol.js';

const options = JSON.parse(process.argv[2] ?? '{}') as EmulatorOptions;
const emulator = await startEmulator(options);

function reply(message: EmulatorReply): void {
  process.send?.(message);
}

process.on('message', (raw) => {
  const message = raw as EmulatorRequest;
  void (async () => {
    try {
      switch (message.op) {
        case 'stats':
          return reply({ id: message.id, result: emulator.stats() });
        case 'resetStats':
          emulator.resetStats();
          return reply({ id: message.id, result: null });
        case 'setFault':
          emulator.setFault(message.mode as TokenFault, message.count === undefined ? undefined : { count: message.count });
          return reply({ id: message.id, result: null });
        case 'close':
          await emulator.close();
          reply({ id: message.id, result: null });
          return process.disconnect();
      }
    } catch (error) {
      reply({ id: message.id, error: String(error) });
    }
  })();
});

// The parent went away (or closed us): stop, so that no orphan keeps a port open.
process.on('disconnect', () => {
  void emulator.close().then(() => process.exit(0));
});

reply({ id: 0, result: { url: emulator.url, tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret } });
