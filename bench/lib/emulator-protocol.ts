/** The IPC messages between the bench and an emulator child process. */
export type EmulatorRequest =
  | { id: number; op: 'stats' }
  | { id: number; op: 'resetStats' }
  | { id: number; op: 'setFault'; mode: string; count?: number }
  | { id: number; op: 'close' };

/** An answer to the request of the same id; id 0 announces the emulator's address at start-up. */
export type EmulatorReply = { id: number; result: unknown } | { id: number; error: string };
