/**
 * Part of the install test (.ci/test-install.mjs): in a scratch project where the package is
 * installed beside TypeScript, type-checks two small projects that import every entry of
 * `exports`, the way users compile:
 *
 * - `ts-nodenext/`: strict, `module` and `moduleResolution` NodeNext, an ES module package, no
 *   `skipLibCheck`: TypeScript reads `exports`, and every declaration file of the package is checked.
 *   (ioredis 6's declarations import `redis-errors`, which has no types: the project declares it,
 *   as a user without `skipLibCheck` has to.)
 * - `ts-cjs/`: strict, `module` commonjs with `moduleResolution` node10, which ignores `exports`:
 *   the subpath entries resolve only through `typesVersions`. `skipLibCheck` is on, as `tsc --init`
 *   sets it, because got ships its types through `exports` alone, so node10 cannot resolve the
 *   package's own `import type ... from 'got'`; an entry that does not resolve still fails, since
 *   the error is in the project's own file.
 *
 * Each project also uses the entries that meet a peer, once each, typed against the peer the
 * install test installed (see {@link USES}): `new RedisTokenStore({ redis })` with an ioredis 6
 * client, `axiosAuth(axios.create(), tokens)` and a request with a `scope` (the entry augments
 * axios's config), `new Agent().compose(undiciAuth(tokens))` with undici 7, and, in the NodeNext
 * project only, `got.extend(gotAuth(tokens))` with got 16 (node10 cannot resolve got, which
 * ships its types through `exports` alone). So the packaged .d.ts are checked against the
 * installed peers, not only imported. Beyond a clean `tsc`, the list of files it read must hold
 * each entry's `types` file: the entry resolved to the declarations `exports` names, not to
 * something else.
 */
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const STRICT = { strict: true, target: 'es2022', noEmit: true, types: ['node'], noUnusedLocals: true };

const PROJECTS = [
  {
    name: 'ts-nodenext',
    packageJson: { name: 'ts-nodenext', private: true, type: 'module' },
    compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: false },
    resolvesGot: true,
  },
  {
    name: 'ts-cjs',
    packageJson: { name: 'ts-cjs', private: true },
    compilerOptions: { ...STRICT, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, skipLibCheck: true },
    resolvesGot: false,
  },
];

/**
 * One typed use per entry that meets a peer, keyed by the entry. Each is a function that is never
 * called (the projects are only type-checked); `tokens` is the TokenManager the '.' entry declares.
 */
const USES = {
  './redis': [
    "import { Redis } from 'ioredis';",
    "import { RedisTokenStore, type RedisTokenStoreOptions } from 'flux-token-manager/redis';",
    "export const client: RedisTokenStoreOptions['redis'] = new Redis({ lazyConnect: true });",
    'export const fleetStore = (): RedisTokenStore => new RedisTokenStore({ redis: client, keyPrefix: "flux:" });',
  ],
  './axios': [
    "import axios from 'axios';",
    "import { axiosAuth } from 'flux-token-manager/axios';",
    'export const useAxios = async (): Promise<number> => {',
    '  const flux = axios.create({ baseURL: "https://api.test.tryflux.com" });',
    '  const remove: () => void = axiosAuth(flux, tokens, { scope: (config) => config.url ?? null });',
    '  const { status } = await flux.get("/users/42/receipts", { scope: "42" });',
    '  remove();',
    '  return status;',
    '};',
  ],
  './undici': [
    "import { Agent, interceptors, type Dispatcher } from 'undici';",
    "import { undiciAuth } from 'flux-token-manager/undici';",
    'export const useUndici = (): Dispatcher =>',
    '  new Agent().compose(interceptors.redirect({ maxRedirections: 3 }), undiciAuth(tokens, { scope: (options) => /^\\/users\\/([^/]+)\\//.exec(options.path)?.[1] }));',
  ],
  './got': [
    "import got from 'got';",
    "import { gotAuth } from 'flux-token-manager/got';",
    'export const useGot = async (): Promise<unknown> => got.extend(gotAuth(tokens), { prefixUrl: "https://api.test.tryflux.com" }).get("users/42/receipts", { context: { scope: "42" } }).json();',
  ],
};

/** The source a project compiles: every entry imported, and the typed uses of {@link USES}. */
function sourceOf(entries, { resolvesGot }) {
  const lines = entries.map(({ specifier }, i) => `import * as entry${i} from '${specifier}';`);
  lines.push(`export const entries = [${entries.map((_, i) => `entry${i}`).join(', ')}] as const;`);
  const has = (entry) => entries.some((e) => e.entry === entry);
  if (has('.')) {
    lines.push(
      "import { TokenManager } from 'flux-token-manager';",
      "export const manager = (): TokenManager => new TokenManager({ clientId: 'id', clientSecret: 'secret' });",
      'declare const tokens: TokenManager;',
      ...Object.entries(USES).flatMap(([entry, use]) => (has(entry) && (entry !== './got' || resolvesGot) ? use : [])),
    );
  } else if (has('./redis')) {
    lines.push(...USES['./redis']);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Type-checks both projects under `project` against `entries` (from entriesOf in the install
 * test). `run`, `check` and `log` are the install test's.
 */
export function typeCheckEntries({ project, entries, run, check, log }) {
  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  const pkgDir = realpathSync(join(project, 'node_modules', 'flux-token-manager'));
  for (const { name, packageJson, compilerOptions, resolvesGot } of PROJECTS) {
    const dir = join(project, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
    writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({ compilerOptions, files: ['index.ts', 'untyped.d.ts'] }, null, 2)}\n`);
    writeFileSync(join(dir, 'index.ts'), sourceOf(entries, { resolvesGot }));
    writeFileSync(join(dir, 'untyped.d.ts'), "declare module 'redis-errors';\n");
    run(process.execPath, [tsc, '-p', '.'], dir);
    const listed = new Set(run(process.execPath, [tsc, '-p', '.', '--listFilesOnly'], dir).split('\n').map((line) => line.trim()));
    for (const { specifier, types } of entries) {
      if (types === undefined) continue;
      const expected = join(pkgDir, types);
      check(listed.has(expected), `${name}: '${specifier}' did not resolve to ${types} (tsc did not read ${expected})`);
    }
    const how = `module ${compilerOptions.module}, moduleResolution ${compilerOptions.moduleResolution}`;
    log(`  TypeScript (${how}, strict): ${entries.length} entries resolve and type-check, and their uses with the installed peers`);
  }
}
