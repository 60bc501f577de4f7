#!/usr/bin/env node
/**
 * Type-checks the HTTP adapters against each major of their peers that the project's own
 * devDependencies do not cover: got 15 and 16 (which need Node 22 to run, but whose types Node 20
 * can check), and undici 6 and 7 for authFetch's `fetch` option and undiciAuth.
 *
 * For each case it makes a scratch project in the OS temp folder, installs that peer there, and
 * runs the project's own TypeScript on a small strict NodeNext file that imports the adapter from
 * this checkout's sources, as a user's project would. The peer resolves to the scratch project's
 * copy, and the library's own imports to this checkout's (the "second copy" a user gets when the
 * versions differ): exactly the case that has to type-check.
 *
 * Usage: node .ci/typecheck-peers.mjs [case ...]   (cases: got15 got16 undici6 undici7; default all)
 * Exits 1 if any case fails to install or to type-check. Needs the npm registry.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const lib = (path) => JSON.stringify(join(ROOT, 'lib', path));

const manager = `import { TokenManager } from ${lib('index.js')};
const tokens = new TokenManager({ clientId: 'id', clientSecret: 'secret' });`;

const gotCheck = `import got from 'got';
import { gotAuth } from ${lib('http/got.js')};
${manager}
export const flux = got.extend(gotAuth(tokens), { prefixUrl: 'https://api.test.tryflux.com' });
export const byPath = got.extend(gotAuth(tokens, { scope: (options) => options.url?.toString() ?? null }));
export const asUser = flux.get('users/42/receipts', { context: { scope: '42' } }).json();
`;

const undiciFetchCheck = `import { fetch } from 'undici';
import { authFetch } from ${lib('index.js')};
${manager}
export const fetchAs42 = authFetch(tokens, { scope: '42', fetch });
`;

const undiciComposeCheck = `${undiciFetchCheck}
import { Agent, request } from 'undici';
import { undiciAuth } from ${lib('http/undici.js')};
const dispatcher = new Agent().compose(undiciAuth(tokens, { scope: (options) => options.path.split('/')[2] ?? null }));
export const answer = request('https://api.test.tryflux.com/users/42/receipts', { dispatcher });
`;

const CASES = {
  got15: { peer: 'got@15', source: gotCheck },
  got16: { peer: 'got@16', source: gotCheck },
  undici6: { peer: 'undici@6', source: undiciFetchCheck },
  undici7: { peer: 'undici@7', source: undiciComposeCheck },
};

const tsconfig = {
  compilerOptions: {
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
  },
  files: ['check.ts'],
};

const selected = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(CASES);
let failed = 0;
for (const name of selected) {
  const spec = CASES[name];
  if (spec === undefined) {
    process.stderr.write(`unknown case ${name}; cases: ${Object.keys(CASES).join(', ')}\n`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), `flux-peers-${name}-`));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `check-${name}`, private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', spec.peer], { cwd: dir, stdio: 'pipe' });
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    writeFileSync(join(dir, 'check.ts'), spec.source);
    execFileSync(process.execPath, [TSC, '-p', dir], { cwd: dir, stdio: 'pipe' });
    process.stdout.write(`ok   ${name} (${spec.peer})\n`);
  } catch (error) {
    failed++;
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim() || String(error);
    process.stdout.write(`FAIL ${name} (${spec.peer})\n${output}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(failed === 0 ? 0 : 1);
