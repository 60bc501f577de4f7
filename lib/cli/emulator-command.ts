/**
 * `flux-token emulator`: runs the local Flux emulator in the foreground until Ctrl-C, and prints
 * how to point a client at it.
 */
import { startEmulator } from '../emulator/index.js';

/** Flags of `flux-token emulator`. */
export interface EmulatorFlags {
  port?: number;
  expiresIn?: number;
  clientId?: string;
  clientSecret?: string;
}

/** Starts the emulator, prints its URL and test credentials, and resolves when it is stopped. */
export async function emulatorCommand(
  flags: EmulatorFlags,
  out: (line: string) => void,
  stopped: Promise<unknown> = waitForSignal(),
): Promise<void> {
  const emulator = await startEmulator({
    ...(flags.port === undefined ? {} : { port: flags.port }),
    ...(flags.expiresIn === undefined ? {} : { expiresIn: flags.expiresIn }),
    ...(flags.clientId === undefined ? {} : { clientId: flags.clientId }),
    ...(flags.clientSecret === undefined ? {} : { clientSecret: flags.clientSecret }),
  });
  out(`Flux emulator listening on ${emulator.url}`);
  out(`  token endpoint  ${emulator.tokenUrl}`);
  out(`  per-user API    ${emulator.url}/users/<user id>/...`);
  out(`  test credentials (local only):`);
  out(`    export FLUX_TOKEN_URL=${emulator.tokenUrl}`);
  out(`    export FLUX_CLIENT_ID=${emulator.clientId}`);
  out(`    export FLUX_CLIENT_SECRET=${emulator.clientSecret}`);
  out('Press Ctrl-C to stop.');
  await stopped;
  await emulator.close();
  out('Emulator stopped.');
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
