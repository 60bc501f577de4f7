/**
 * A raw token endpoint on loopback that records when each request reached it (user, grant, the
 * how-manieth attempt for that user) and answers as a script says: at once, after a delay, with an
 * error status and headers, or not at all (held until the server closes). Opaque tokens, no
 * signing: the figures are about when requests arrive, not about what they carry.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './timing.js';

/** One request as it reached the server. */
export interface Arrival {
  /** When, on the bench's monotonic clock ({@link nowMs}). */
  at: number;
  /** The user (the `scope` form field, or that of the refresh token), `*` for none. */
  user: string;
  grant: string;
  /** 1 for the user's first request, 2 for the next one, ... */
  attempt: number;
}

/** How to answer one request; undefined in {@link ArrivalServerOptions.script} means a token at once. */
export interface Answer {
  /** Answer after this long (ms). */
  delayMs?: number;
  /** Never answer (the request is held until the server closes). */
  hang?: boolean;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ArrivalServerOptions {
  /** `expires_in` of the tokens issued, per user. @default 3600 */
  expiresIn?: (user: string) => number;
  script?: (arrival: Arrival) => Answer | undefined;
}

export interface ArrivalServer {
  readonly tokenUrl: string;
  /** Every request so far, in the order they arrived. */
  readonly arrivals: readonly Arrival[];
  close(): Promise<void>;
}

export async function startArrivalServer({ expiresIn = () => 3600, script = () => undefined }: ArrivalServerOptions = {}): Promise<ArrivalServer> {
  const arrivals: Arrival[] = [];
  const attempts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let issued = 0;
  const server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(data);
      const grant = form.get('grant_type') ?? '?';
      const user = (grant === 'refresh_token' ? form.get('refresh_token')?.split('.')[1] : form.get('scope')) || '*';
      const attempt = (attempts.get(user) ?? 0) + 1;
      attempts.set(user, attempt);
      const arrival = { at: nowMs(), user, grant, attempt };
      arrivals.push(arrival);
      const answer = script(arrival) ?? {};
      if (answer.hang) return;
      const send = (response: ServerResponse) => {
        if (response.destroyed) return;
        const body = answer.body ?? { access_token: `at-${++issued}`, token_type: 'bearer', expires_in: expiresIn(user), refresh_token: `rt.${user}.${issued}`, scope: user };
        response.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        response.end(JSON.stringify(body));
      };
      if (answer.delayMs === undefined) return send(res);
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(res);
      }, answer.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tokenUrl: `http://127.0.0.1:${port}/auth/oauth/token`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Where the request of `user` (asked for at `calledAt`) stands among the others: how many requests
 * of other users reached the server between the call and its own first request, and which.
 */
export function orderOf(arrivals: readonly Arrival[], user: string, calledAt: number): string {
  const own = arrivals.findIndex((a) => a.user === user);
  if (own < 0) return `${user}'s request never reached the server`;
  const between = arrivals.slice(0, own).filter((a) => a.at >= calledAt);
  const names = between.map((a) => `${a.user}#${a.attempt}`);
  const shown = names.length > 12 ? [...names.slice(0, 12), `… ${names.length - 12} more`] : names;
  return between.length === 0
    ? `${user}'s request went first (no other request reached the server between its call and its own)`
    : `${between.length} requests of other users reached the server between its call and its own: ${shown.join(', ')}`;
}
