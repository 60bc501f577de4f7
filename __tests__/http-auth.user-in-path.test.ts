// The README's and docs/http-clients.md's way of reading the user from a request's path, against
// the emulator: a user id with a space, an `@` or a `/` is percent-encoded in the path, and the
// scope must be the decoded id, or the request carries a token for a user that does not exist.
import got from 'got';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { authFetch } from '../lib/http/fetch.js';
import { gotAuth } from '../lib/http/got.js';
import { TokenManager } from '../lib/manager/token-manager.js';

const USERS = ['jane doe', 'jane@example.com', 'team/7', '42'];

/** The README's fetch scope, verbatim. */
const readmeScope = (request: Request) => decodeURIComponent(new URL(request.url).pathname.split('/')[2]!);

/** docs/http-clients.md's `userInPath`, verbatim. */
const userInPath = (url: URL | undefined) => {
  const id = /^\/users\/([^/]+)/.exec(url?.pathname ?? '')?.[1];
  return id === undefined ? undefined : decodeURIComponent(id);
};

describe('the user id read from the path is percent-decoded', () => {
  let emulator: Emulator;
  let tokens: TokenManager;

  beforeAll(async () => {
    emulator = await startEmulator();
  });

  // A fresh cache and fresh counts per test: each one sees its own token calls.
  beforeEach(() => {
    emulator.resetStats();
    tokens = new TokenManager({ tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret });
  });

  afterEach(() => tokens.close());

  afterAll(() => emulator?.close());

  const pathOf = (user: string) => `${emulator.url}/users/${encodeURIComponent(user)}/receipts`;

  it("the README's fetch example gets each user its own token, and the API answers 200", async () => {
    const fetchAs = authFetch(tokens, { scope: readmeScope });
    const answers = await Promise.all(USERS.map(async (user) => ({ status: (await fetchAs(pathOf(user))).status, user })));
    expect(answers).toEqual(USERS.map((user) => ({ status: 200, user })));
    const { tokenCalls, api } = emulator.stats();
    expect(Object.keys(tokenCalls.byScope).sort()).toEqual([...USERS].sort());
    expect(api.unauthorized['wrong-user']).toBe(0);
  });

  it("docs/http-clients.md's userInPath does the same through got", async () => {
    const flux = got.extend(gotAuth(tokens, { scope: (options) => userInPath(options.url as URL | undefined) }));
    const bodies = await Promise.all(USERS.map((user) => flux.get(pathOf(user)).json<{ user: string }>()));
    expect(bodies.map((body) => body.user)).toEqual(USERS);
    expect(Object.keys(emulator.stats().tokenCalls.byScope).sort()).toEqual([...USERS].sort());
  });

  it('without decodeURIComponent, the token is for "jane%20doe", and the API refuses it', async () => {
    const fetchAs = authFetch(tokens, { scope: (request) => new URL(request.url).pathname.split('/')[2] });
    expect((await fetchAs(pathOf('jane doe'))).status).toBe(401);
    expect(emulator.stats().tokenCalls.byScope).toHaveProperty(['jane%20doe']);
    expect(emulator.stats().api.unauthorized['wrong-user']).toBeGreaterThanOrEqual(1);
  });
});
