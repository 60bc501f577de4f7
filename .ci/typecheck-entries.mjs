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
 * Each project also hands an ioredis client (ioredis 6 in the install test) to the fleet store's
 * `redis` option. Beyond a clean `tsc`, the list of files it read must hold each entry's `types`
 * file: the entry resolved to the declarations `exports` names, not to something else.
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
  },
  {
    name: 'ts-cjs',
    packageJson: { name: 'ts-cjs', private: true },
    compilerOptions: { ...STRICT, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, skipLibCheck: true },
  },
];

/** The source both projects compile: every entry imported, and an ioredis client for the fleet store. */
function sourceOf(entries) {
  const lines = entries.map(({ specifier }, i) => `import * as entry${i} from '${specifier}';`);
  lines.push(`export const entries = [${entries.map((_, i) => `entry${i}`).join(', ')}] as const;`);
  if (entries.some(({ entry }) => entry === './redis')) {
    lines.push(
      "import { Redis } from 'ioredis';",
      "import type { RedisTokenStoreOptions } from 'flux-token-manager/redis';",
      "export const client: RedisTokenStoreOptions['redis'] = new Redis({ lazyConnect: true });",
    );
  }
  if (entries.some(({ entry }) => entry === '.')) {
    lines.push(
      "import { TokenManager } from 'flux-token-manager';",
      "export const manager = (): TokenManager => new TokenManager({ clientId: 'id', clientSecret: 'secret' });",
    );
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
  for (const { name, packageJson, compilerOptions } of PROJECTS) {
    const dir = join(project, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
    writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({ compilerOptions, files: ['index.ts', 'untyped.d.ts'] }, null, 2)}\n`);
    writeFileSync(join(dir, 'index.ts'), sourceOf(entries));
    writeFileSync(join(dir, 'untyped.d.ts'), "declare module 'redis-errors';\n");
    run(process.execPath, [tsc, '-p', '.'], dir);
    const listed = new Set(run(process.execPath, [tsc, '-p', '.', '--listFilesOnly'], dir).split('\n').map((line) => line.trim()));
    for (const { specifier, types } of entries) {
      if (types === undefined) continue;
      const expected = join(pkgDir, types);
      check(listed.has(expected), `${name}: '${specifier}' did not resolve to ${types} (tsc did not read ${expected})`);
    }
    const how = `module ${compilerOptions.module}, moduleResolution ${compilerOptions.moduleResolution}`;
    log(`  TypeScript (${how}, strict): ${entries.length} entries resolve and type-check`);
  }
}
