/**
 * Waits for a condition that no event announces (a counter of the emulator, of a traffic loop), by
 * looking at it every few ms; bounded, so a test fails with a reason instead of hanging.
 */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
