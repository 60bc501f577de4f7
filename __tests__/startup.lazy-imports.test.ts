// What the main entry loads at import, seen from a child process that records every package and
// Node module it resolves (fixtures/record-imports.mjs). got and zlib cost more start-up time than
// the rest of the entry: got is loaded by the first token request, zlib by the first compressed
// token. How long the import takes is a figure for `npm run bench` (startup), not for a test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runNodeChild } from './helpers/tsx-child.js';

const RECORDER = fileURLToPath(new URL('./fixtures/register-import-recorder.mjs', import.meta.url));
/** The child is killed, and the test fails, if it has not exited by itself by then. */
const EXIT_DEADLINE_MS = 15_000;

/**
 * Imports the main entry, notes what was resolved, then sends one token request to a loopback
 * port where nothing listens (so the request fails fast, after got has been loaded).
 */
const CHILD = `
import { readFileSync } from 'node:fs';
const seen = () => readFileSync(process.env.FLUX_IMPORT_LOG, 'utf8').split('\\n').filter(Boolean);
const { TokenEndpoint } = await import('./lib/index.ts');
const atImport = seen();
const endpoint = new TokenEndpoint({ clientId: 'id', clientSecret: 'secret', tokenUrl: 'http://127.0.0.1:1/token', request: { retry: 0 } });
const code = await endpoint.clientCredentials().then(() => 'answered', (error) => error.code);
process.stdout.write(JSON.stringify({ atImport, afterRequest: seen(), code }));
`;

interface Resolved {
  atImport: string[];
  afterRequest: string[];
  code: string;
}

const dir = mkdtempSync(join(tmpdir(), 'flux-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('start-up: what the main entry loads', () => {
  it('loads neither got nor zlib at import; the first token request loads got', async () => {
    const log = join(dir, 'imports.log');
    writeFileSync(log, '');
    const result = await runNodeChild(['--import', 'tsx', '--import', RECORDER, '--input-type=module', '-e', CHILD], {
      env: { FLUX_IMPORT_LOG: log },
      deadlineMs: EXIT_DEADLINE_MS,
    });
    expect({ code: result.code, killed: result.killed, stderr: result.stderr }).toEqual({ code: 0, killed: false, stderr: '' });
    const resolved = JSON.parse(result.stdout) as Resolved;

    expect(resolved.atImport).toContain('p-queue'); // the recorder saw the entry's own imports
    expect(resolved.atImport).not.toContain('got');
    expect(resolved.atImport.filter((specifier) => /^(node:)?zlib$/.test(specifier))).toEqual([]);

    // The request went out through got and failed at the connection: nothing listens on port 1.
    expect(resolved.code).toBe('FLUX_TOKEN_REQUEST');
    expect(resolved.afterRequest).toContain('got');
  });
});
