// The `flux-token` CLI, run as a child process (lib/cli/main.ts, transpiled: see tsNodeArgs) against
// an emulator started in this process. Each spawn costs CPU (about 0.25 s, 0.7 s under tsx), so the runs
// are started together in beforeAll (a few at a time) and each test awaits the run it is about.
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { decodeJws } from '../lib/endpoint/jws.js';
import { VERSION } from '../lib/shared/version.js';
import { SEED_ACCESS_TOKEN } from './helpers/seed.js';
import { killIfRunning, runTsxChild, startTsxChild } from './helpers/tsx-child.js';

/** A run still going after this long is killed with SIGKILL, and its test fails. */
const RUN_DEADLINE_MS = 20_000;
/** Generous: runs wait for a slot, and other test files share the CPU. */
const TEST_TIMEOUT_MS = 60_000;
const CLIENT_ID = 'cli-test-client';
/** Distinctive, so that a leak into stderr cannot be missed or confused with anything else. */
const CLIENT_SECRET = 'cli-test-secret-7f3a9c';
const WRONG_SECRET = 'wrong-secret-b41e02';
/** Every option each command must list in its `--help`. */
const HELP: Record<string, string[]> = {
  '': ['token', 'refresh', 'decode', 'emulator', 'demo', '--version', '--help'],
  token: ['--client-id', '--client-secret', '--token-url', '--timeout', '--retry', '--scope'],
  refresh: ['--refresh-token', '--with-client-credentials', '--client-id', '--client-secret', '--token-url', '--timeout', '--retry'],
  decode: ['<token>'],
  emulator: ['--port', '--expires-in', '--client-id', '--client-secret'],
  demo: ['--users', '--concurrency', '--duration', '--token-lifetime', '--outage'],
};

interface CliResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  killed: boolean;
}

/** Runs at most this many CLIs at once: more only makes each one slower on a 2-core machine. */
const slots = { free: Math.max(2, Math.min(4, availableParallelism())), waiting: [] as (() => void)[] };
const allRuns: Promise<CliResult>[] = [];

/** The test process's environment without jest's NODE_OPTIONS and without any real FLUX_* value. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['NODE_OPTIONS', 'FLUX_TOKEN_URL', 'FLUX_CLIENT_ID', 'FLUX_CLIENT_SECRET', 'FLUX_REFRESH_TOKEN']) delete env[name];
  return env;
}

/**
 * Runs `flux-token ...args` to completion, with `stdin` piped in (none: an empty stdin); never
 * rejects, so that a failed run fails only its own test. `next` jumps the queue: for a run that
 * depends on another, started late, whose test would otherwise wait for every run queued before it.
 */
function cli(args: string[], env: Record<string, string> = {}, stdin?: string, { next = false } = {}): Promise<CliResult> {
  const run = (async () => {
    if (slots.free === 0) await new Promise<void>((resolve) => (next ? slots.waiting.unshift(resolve) : slots.waiting.push(resolve)));
    else slots.free--;
    try {
      return await spawnCli(args, env, stdin);
    } finally {
      const next = slots.waiting.shift();
      if (next) next();
      else slots.free++;
    }
  })();
  allRuns.push(run);
  return run;
}

async function spawnCli(args: string[], env: Record<string, string>, stdin: string | undefined): Promise<CliResult> {
  const { code, signal, stdout, stderr, killed } = await runTsxChild('lib/cli/main.ts', {
    args,
    env,
    baseEnv: baseEnv(),
    stdin: stdin ?? '',
    deadlineMs: RUN_DEADLINE_MS,
  });
  return { args, code, signal, stdout, stderr, killed };
}

/** The CLI's failure contract: nothing on stdout, one `flux-token: ...` line on stderr, no stack. */
function expectOneLineError(result: CliResult, code: number, message: RegExp): void {
  expect(result).toMatchObject({ killed: false, signal: null, code, stdout: '' });
  expect(result.stderr).toMatch(/^flux-token: [^\n]+\n$/);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s*at /m);
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The entries of a help text's Options section, each on one line (commander wraps long ones). */
function helpOptions(help: string): string[] {
  const section = help.split(/^Options:\n/m)[1]?.split(/\n\n|^Commands:/m)[0] ?? '';
  const entries: string[] = [];
  for (const line of section.split('\n')) {
    if (/^ {2}-/.test(line)) entries.push(line.trim());
    else if (line.trim() !== '' && entries.length > 0) entries[entries.length - 1] += ` ${line.trim()}`;
  }
  return entries;
}

const SEED_SHAPE = {
  access_token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/),
  refresh_token: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
  token_type: 'bearer',
  expires_in: 3600,
};

describe('the flux-token CLI', () => {
  let emulator: Emulator;
  let credentials: Record<string, string>;
  let runs: Record<string, Promise<CliResult>>;
  /** The refresh token spent by the `refresh` test, issued in-process. */
  let spentRefreshToken: string;
  /** Refresh tokens for the runs that read it from stdin and from FLUX_REFRESH_TOKEN. */
  let stdinRefreshToken: string;
  let envRefreshToken: string;

  beforeAll(async () => {
    emulator = await startEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    credentials = { FLUX_TOKEN_URL: emulator.tokenUrl, FLUX_CLIENT_ID: CLIENT_ID, FLUX_CLIENT_SECRET: CLIENT_SECRET };
    const issueRefreshToken = async (scope: string) => {
      const issued = await fetch(emulator.tokenUrl, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope }),
      });
      return ((await issued.json()) as { refresh_token: string }).refresh_token;
    };
    [spentRefreshToken, stdinRefreshToken, envRefreshToken] = await Promise.all([
      issueRefreshToken('refresher'),
      issueRefreshToken('stdin-refresher'),
      issueRefreshToken('env-refresher'),
    ]);
    const port = await closedPort();

    runs = {
      token: cli(['token'], credentials),
      tokenScoped: cli(['token', '--scope', 'user-42'], credentials),
      // The same refresh token twice, one after the other: the first spends it.
      refresh: cli(['refresh', '--refresh-token', spentRefreshToken], credentials),
      decodeSeed: cli(['decode', SEED_ACCESS_TOKEN]),
      decodeStdin: cli(['decode', '-'], {}, `${SEED_ACCESS_TOKEN}\n`),
      decodeEmptyStdin: cli(['decode', '-'], {}, ''),
      refreshStdin: cli(['refresh', '--refresh-token', '-'], credentials, `${stdinRefreshToken}\n`),
      refreshEnv: cli(['refresh'], { ...credentials, FLUX_REFRESH_TOKEN: envRefreshToken }),
      emptyScope: cli(['token', '--scope', ''], credentials),
      decodeGarbage: cli(['decode', 'garbage']),
      noClientId: cli(['token'], { FLUX_TOKEN_URL: emulator.tokenUrl }),
      noClientSecret: cli(['token', '--client-id', CLIENT_ID, '--token-url', emulator.tokenUrl]),
      wrongSecret: cli(['token', '--scope', 'intruder', '--client-secret', WRONG_SECRET], credentials),
      badRetry: cli(['token', '--retry', 'x'], credentials),
      unknownOption: cli(['token', '--bogus'], credentials),
      unknownCommand: cli(['tokn']),
      noRefreshToken: cli(['refresh'], credentials),
      unreachable: cli(['token', '--token-url', `http://127.0.0.1:${port}/auth/oauth/token`], credentials),
      plainHttp: cli(['token', '--token-url', 'http://flux.example.com/auth/oauth/token'], credentials),
      plainHttpWithQuery: cli(['token', '--token-url', `http://flux.example.com/auth/oauth/token?client_secret=${CLIENT_SECRET}`], credentials),
      // Values that hold the secret by mistake: none of them may be printed back.
      slashInPassword: cli(['token', '--token-url', `https://${CLIENT_ID}:ab/${CLIENT_SECRET}@flux.example.com/auth/oauth/token`], credentials),
      slashInPasswordEnv: cli(['token'], { ...credentials, FLUX_TOKEN_URL: `https://${CLIENT_ID}:ab/${CLIENT_SECRET}@flux.example.com/auth/oauth/token` }),
      spaceInHostEnv: cli(['token'], { ...credentials, FLUX_TOKEN_URL: `https://${CLIENT_ID}:${CLIENT_SECRET}@flux .example.com/auth/oauth/token` }),
      secretInHttpPath: cli(['token', '--token-url', `http://flux.example.com/${CLIENT_SECRET}/token`], credentials),
      secretAsTimeout: cli(['token', '--timeout', CLIENT_SECRET], credentials),
      version: cli(['--version']),
      ...Object.fromEntries(Object.keys(HELP).map((command) => [`help:${command}`, cli([command, '--help'].filter(Boolean))])),
    };
    runs.refreshReused = runs.refresh!.then(() => cli(['refresh', '--refresh-token', spentRefreshToken], credentials, undefined, { next: true }));
  });

  afterAll(async () => {
    await Promise.all(allRuns);
    await emulator?.close();
  });

  describe('token', () => {
    it(
      'prints the seed-shaped JSON of a client-wide token and exits 0',
      async () => {
        const result = await runs.token!;
        expect(result).toMatchObject({ code: 0, stderr: '' });
        const body = JSON.parse(result.stdout) as Record<string, unknown>;
        expect(Object.keys(body)).toEqual(['access_token', 'refresh_token', 'token_type', 'expires_in']);
        expect(body).toEqual(SEED_SHAPE);
        expect(decodeJws(body.access_token as string).claims).toMatchObject({ aud: CLIENT_ID, restrictedTo: {} });
        expect(emulator.stats().tokenCalls.byScope['*']).toBe(1);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'with --scope USER, asks for a token restricted to that user',
      async () => {
        const result = await runs.tokenScoped!;
        expect(result).toMatchObject({ code: 0, stderr: '' });
        const body = JSON.parse(result.stdout) as Record<string, unknown>;
        expect(body).toEqual(SEED_SHAPE);
        expect(decodeJws(body.access_token as string).claims.restrictedTo).toBe('user-42');
        const { byScope, byStatus } = emulator.stats().tokenCalls;
        expect(byScope['user-42']).toBe(1);
        expect(byStatus['200']).toBeGreaterThanOrEqual(1);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('refresh', () => {
    it(
      'spends the refresh token and prints the rotated pair',
      async () => {
        const result = await runs.refresh!;
        expect(result).toMatchObject({ code: 0, stderr: '' });
        const body = JSON.parse(result.stdout) as Record<string, unknown>;
        expect(body).toEqual(SEED_SHAPE);
        expect(body.refresh_token).not.toBe(spentRefreshToken);
        expect(decodeJws(body.access_token as string).claims.restrictedTo).toBe('refresher');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'fails with one line and exit 1 when the refresh token was already used (strict rotation)',
      async () => {
        expectOneLineError(await runs.refreshReused!, 1, /invalid_grant/);
        expect(emulator.stats().tokenCalls.invalidGrant).toBe(1);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'without --refresh-token or FLUX_REFRESH_TOKEN, names both and exits 2',
      async () => {
        expectOneLineError(await runs.noRefreshToken!, 2, /--refresh-token.*FLUX_REFRESH_TOKEN/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      '--refresh-token - reads the refresh token from stdin, so that it stays out of ps',
      async () => {
        const result = await runs.refreshStdin!;
        expect(result).toMatchObject({ code: 0, stderr: '' });
        const body = JSON.parse(result.stdout) as Record<string, unknown>;
        expect(body).toEqual(SEED_SHAPE);
        expect(decodeJws(body.access_token as string).claims.restrictedTo).toBe('stdin-refresher');
        expect(emulator.stats().tokenCalls.byScope['stdin-refresher']).toBe(2); // the issue, then this refresh
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'reads FLUX_REFRESH_TOKEN when --refresh-token is not given',
      async () => {
        const result = await runs.refreshEnv!;
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(decodeJws((JSON.parse(result.stdout) as { access_token: string }).access_token).claims.restrictedTo).toBe('env-refresher');
        expect(emulator.stats().tokenCalls.byScope['env-refresher']).toBe(2);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('decode', () => {
    it(
      "prints the seed token's header, gunzipped claims, ISO times and that it expired",
      async () => {
        const result = await runs.decodeSeed!;
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(JSON.parse(result.stdout)).toEqual({
          header: { alg: 'RS256', zip: 'GZIP' },
          claims: expect.objectContaining({
            iss: 'tryflux.com',
            aud: '602eb8fa-b6e6-44d8-96fb-f85842f855b7',
            exp: 1510490272,
            nbf: 1510486672,
          }),
          times: { exp: '2017-11-12T12:37:52.000Z', nbf: '2017-11-12T11:37:52.000Z', expired: true },
        });
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'decode - reads the token from stdin and prints the same as with the token as an argument',
      async () => {
        const [fromStdin, fromArgument] = await Promise.all([runs.decodeStdin!, runs.decodeSeed!]);
        expect(fromStdin).toMatchObject({ code: 0, stderr: '' });
        expect(JSON.parse(fromStdin.stdout)).toEqual(JSON.parse(fromArgument.stdout));
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'decode - with nothing on stdin: a usage error, exit 2',
      async () => {
        expectOneLineError(await runs.decodeEmptyStdin!, 2, /expected an access token on stdin, got nothing/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'fails with one line and no stack trace on a string that is not a JWS',
      async () => {
        expectOneLineError(await runs.decodeGarbage!, 1, /JWS/);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('failures: one line on stderr, a non-zero exit code, never the secret', () => {
    it(
      'a missing client id names FLUX_CLIENT_ID and --client-id, exit 2',
      async () => {
        expectOneLineError(await runs.noClientId!, 2, /--client-id.*FLUX_CLIENT_ID|FLUX_CLIENT_ID.*--client-id/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a missing client secret names FLUX_CLIENT_SECRET and --client-secret, exit 2',
      async () => {
        expectOneLineError(await runs.noClientSecret!, 2, /--client-secret.*FLUX_CLIENT_SECRET/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'refused credentials: exit 1, and the secret given is not echoed',
      async () => {
        const result = await runs.wrongSecret!;
        expectOneLineError(result, 1, /401.*invalid_client/);
        expect(result.stderr).not.toContain(WRONG_SECRET);
        expect(emulator.stats().tokenCalls.byScope.intruder).toBe(1);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a flag value that does not parse (--retry x): exit 2, naming the flag',
      async () => {
        expectOneLineError(await runs.badRetry!, 2, /--retry expects an integer from 0 to 10, got a value of 1 character that is not a number$/m);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      '--scope "": exit 2, in the words of the command line, before any request',
      async () => {
        expectOneLineError(await runs.emptyScope!, 2, /^flux-token: --scope expects a user id, got an empty string/);
        expect(emulator.stats().tokenCalls.byScope['']).toBeUndefined();
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'an unknown option: exit 2, naming it',
      async () => {
        expectOneLineError(await runs.unknownOption!, 2, /unknown option '--bogus'/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      "an unknown command: exit 2, with commander's suggestion on the same line",
      async () => {
        expectOneLineError(await runs.unknownCommand!, 2, /unknown command 'tokn' \(Did you mean token\?\)/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'an unreachable endpoint: exit 1',
      async () => {
        expectOneLineError(await runs.unreachable!, 1, /could not be reached/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a plain-http token URL off loopback is refused before any request: exit 2',
      async () => {
        expectOneLineError(await runs.plainHttp!, 2, /https/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      "a token URL off loopback is shown by its scheme and host only, never its path or query string: exit 2",
      async () => {
        expectOneLineError(await runs.plainHttpWithQuery!, 2, /got a URL with scheme `http:` on host `flux\.example\.com`$/m);
        expectOneLineError(await runs.secretInHttpPath!, 2, /got a URL with scheme `http:` on host `flux\.example\.com`$/m);
      },
      TEST_TIMEOUT_MS,
    );

    it.each([
      ['--token-url with a slash in the password', 'slashInPassword'],
      ['FLUX_TOKEN_URL with a slash in the password', 'slashInPasswordEnv'],
      ['FLUX_TOKEN_URL with a space in the host', 'spaceInHostEnv'],
    ])('a token URL that does not parse is described by its length and scheme, never shown: %s, exit 2', async (_what, run) => {
      const result = await runs[run]!;
      expectOneLineError(result, 2, /`tokenUrl` to be an absolute URL, got a string of \d+ characters that does not parse as a URL \(scheme `https:`\)$/m);
      expect(result.stderr).not.toContain(CLIENT_ID);
    }, TEST_TIMEOUT_MS);

    it(
      'a secret given to --timeout by mistake is described, never shown: exit 2',
      async () => {
        expectOneLineError(await runs.secretAsTimeout!, 2, new RegExp(`--timeout expects a number from 1 and up, got a value of ${CLIENT_SECRET.length} characters that is not a number$`, 'm'));
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'no run printed the client secret on stderr',
      async () => {
        const results = await Promise.all(Object.values(runs));
        for (const result of results) expect(result.stderr).not.toContain(CLIENT_SECRET);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('--help and --version', () => {
    it.each(Object.entries(HELP).map(([command, options]) => [`flux-token ${command}`.trim(), command, options] as const))(
      '`%s --help` prints its usage and options on stdout and exits 0',
      async (_label, command, options) => {
        const result = await runs[`help:${command}`]!;
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(result.stdout).toMatch(new RegExp(`^Usage: flux-token${command ? ` ${command}` : ''} `));
        for (const option of options) expect(result.stdout).toContain(option);
      },
      TEST_TIMEOUT_MS,
    );

    it.each(Object.keys(HELP).map((command) => [`flux-token ${command}`.trim(), command] as const))(
      '`%s --help` shows the default of every option',
      async (_label, command) => {
        const options = helpOptions((await runs[`help:${command}`]!).stdout);
        expect(options.length).toBeGreaterThan(0);
        for (const option of options.filter((line) => !/^-h, --help|^-V, --version/.test(line))) {
          expect(option).toMatch(/\(default: [^)]+\)/);
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      '--version prints the package version and exits 0',
      async () => {
        expect(await runs.version!).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
      },
      TEST_TIMEOUT_MS,
    );
  });
});

describe('flux-token emulator', () => {
  it(
    'prints its URL, answers token requests there, and exits 0 on SIGTERM',
    async () => {
      let stdout = '';
      let announced: () => void = () => {};
      const listening = new Promise<void>((resolve) => (announced = resolve));
      const { child, exited } = startTsxChild('lib/cli/main.ts', {
        args: ['emulator', '--port', '0', '--expires-in', '2'],
        baseEnv: baseEnv(),
        deadlineMs: RUN_DEADLINE_MS,
        onLine: (line) => {
          stdout += `${line}\n`;
          if (/Press Ctrl-C/.test(line)) announced();
        },
      });
      try {
        await Promise.race([
          listening,
          exited.then((run) => Promise.reject(new Error(`the emulator exited early: ${run.stderr}`))),
        ]);
        const url = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout)?.[1];
        expect(url).toBeDefined();
        const env = Object.fromEntries([...stdout.matchAll(/export (\w+)=(\S+)/g)].map(([, k, v]) => [k!, v!]));
        expect(env).toMatchObject({ FLUX_TOKEN_URL: `${url}/auth/oauth/token`, FLUX_CLIENT_ID: 'flux-demo-client' });

        const response = await fetch(env.FLUX_TOKEN_URL!, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: env.FLUX_CLIENT_ID!,
            client_secret: env.FLUX_CLIENT_SECRET!,
          }),
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ token_type: 'bearer', expires_in: 2 });

        child.kill('SIGTERM');
        const run = await exited;
        expect(run).toMatchObject({ code: 0, signal: null, killed: false, stderr: '' });
        expect(run.stdout).toMatch(/Emulator stopped\.\n$/);
      } finally {
        killIfRunning(child);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
