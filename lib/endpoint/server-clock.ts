/**
 * The token server's clock, as its answers tell it. A server whose clock is off by an hour issues
 * a JWS whose `exp` is an hour off too, and a `Retry-After` date an hour away: read against our
 * clock, a 2 s token is already expired (or lives an hour), and a 3 s outage becomes the 60 s cap.
 * AWS SDKs learn the offset from the `Date` header for the same reason (request signing).
 */

/** Offsets up to this, in ms, are within the `Date` header's resolution: read as 0. */
export const IN_STEP_MS = 1_000;

/**
 * The offset between the server's clock and ours, learned from the `Date` header (RFC 9110 §6.6.1)
 * of each answer. The header has a resolution of one second, so the offset is known to about a
 * second: enough to read an hour-off `exp`. An offset within a second reads as 0, so that a server
 * in step is read exactly as before.
 */
export class ServerClock {
  /** Server time minus local time, in ms; 0 until an answer carried a readable `Date`. */
  #offsetMs = 0;

  /** Server time minus local time, in ms, as the latest answer with a `Date` header showed it. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /**
   * Learns from an answer's `Date` header, received for a request sent at `sentAt` and answered at
   * `receivedAt` (both by the local clock). An absent or unreadable header teaches nothing.
   */
  learn(date: string | string[] | undefined, sentAt: number, receivedAt: number): void {
    const serverAt = serverDate(date);
    if (serverAt === undefined) return;
    // The header is truncated to the second: the server's instant lies in [date, date + 1 s).
    const offset = Math.round(serverAt + 500 - (sentAt + receivedAt) / 2);
    // Within the header's resolution the clocks agree: a server in step reads as exactly in step.
    this.#offsetMs = Math.abs(offset) <= IN_STEP_MS ? 0 : offset;
  }

  /** The server's clock at local instant `now`. */
  serverNow(now: number): number {
    return now + this.#offsetMs;
  }
}

/** The instant a `Date` header gives, in ms since the epoch; undefined when absent or unreadable. */
export function serverDate(date: string | string[] | undefined): number | undefined {
  const value = Array.isArray(date) ? date[0] : date;
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}
