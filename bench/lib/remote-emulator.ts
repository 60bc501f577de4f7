/**
 * Starts the emulator in a child process (see emulator-child.ts) and drives it over IPC, with the
 * same members as an in-process `Emulator`, made asynchronous.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions, EmulatorStats, TokenFault } from '../../lib/emulator/index.js';
import type { EmulatorReply, EmulatorRequest } from './emulator-protocol.js';
import { within } from './timing.js';

const CHILD = fileURLToPath(new URL('./emulator-child.ts', import.meta.url));
/** Start-up includes loading tsx and making an RSA key pair. */
const START_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface RemoteEmulator {
  readonly url: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  stats(): Promise<EmulatorStats>;
  resetStats(): Promise<void>;
  setFault(mode: TokenFault, options?: { count?: number }): Promise<void>;
  close(): Promise<void>;
}

interface Address {
  url: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Starts an emulator child with `options` (plain data only: no `now`). */
export async function startRemoteEmulator(options: Omit<EmulatorOptions, 'now'> = {}): Promise<RemoteEmulator> {
  const child: ChildProcess = fork(CHILD, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exited = false;

  const started = new Promise<Address>((resolve, reject) => {
    pending.set(0, { resolve: (value) => resolve(value as Address), reject });
  });
  child.on('message', (raw) => {
    const message = raw as EmulatorReply;
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if ('error' in message) waiter.reject(new Error(`emulator child: ${message.error}`));
    else waiter.resolve(message.result);
  });
  child.on('exit', (code) => {
    exited = true;
    for (const waiter of pending.values()) waiter.reject(new Error(`emulator child exited (code ${code})`));
    pending.clear();
  });

  const call = (request: DistributiveOmit<EmulatorRequest, 'id'>): Promise<unknown> => {
    if (exited) return Promise.reject(new Error('emulator child has exited'));
    const id = nextId++;
    const answer = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject }));
    child.send({ ...request, id });
    return within(answer, REQUEST_TIMEOUT_MS, `emulator ${request.op}`);
  };

  let address: Address;
  try {
    address = await within(started, START_TIMEOUT_MS, 'emulator start-up');
  } catch (error) {
    child.kill();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    ...address,
    stats: () => call({ op: 'stats' }) as Promise<EmulatorStats>,
    resetStats: async () => {
      await call({ op: 'resetStats' });
    },
    setFault: async (mode, faultOptions) => {
      await call({ op: 'setFault', mode, ...(faultOptions?.count === undefined ? {} : { count: faultOptions.count }) });
    },
    close: () =>
      (closing ??= (async () => {
        if (exited) return;
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        try {
          await call({ op: 'close' });
          await within(gone, REQUEST_TIMEOUT_MS, 'emulator exit');
        } catch {
          child.kill();
        }
      })()),
  };
}
