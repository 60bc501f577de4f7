// The layering of lib/ is enforced by `npm run lint` (eslint.config.js), not only described in
// docs/architecture.md: an import against the layers must fail, one along them must pass.
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

/** The messages of the layering rule for `code`, linted as if it were the file at `filePath`. */
async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('the layers of lib/ are a lint rule', () => {
  it.each([
    ['an endpoint module importing the manager', 'lib/endpoint/x.ts', "import type { TokenManager } from '../manager/token-manager.js';\nexport type X = TokenManager;\n"],
    ['the manager importing an HTTP adapter', 'lib/manager/x.ts', "import { gotAuth } from '../http/got.js';\nexport const x = gotAuth;\n"],
    ['the main entry importing redis/', 'lib/index.ts', "export { RedisTokenStore } from './redis/index.js';\n"],
    ['the main entry importing the got adapter', 'lib/index.ts', "export { gotAuth } from './http/got.js';\n"],
    ['the main entry importing the axios adapter', 'lib/index.ts', "export { axiosAuth } from './http/axios.js';\n"],
    ['the main entry importing the undici adapter', 'lib/index.ts', "export { undiciAuth } from './http/undici.js';\n"],
    ['a store importing the manager', 'lib/store/x.ts', "import type { TokenManager } from '../manager/token-manager.js';\nexport type X = TokenManager;\n"],
    ['shared/ importing the endpoint', 'lib/shared/x.ts', "import { TokenEndpoint } from '../endpoint/token-endpoint.js';\nexport const x = TokenEndpoint;\n"],
    ['redis/ importing the manager', 'lib/redis/x.ts', "import { TokenManager } from '../manager/token-manager.js';\nexport const x = TokenManager;\n"],
    ['the library importing a test helper', 'lib/manager/x.ts', "import { x } from '../../__tests__/helpers/setup.js';\nexport const y = x;\n"],
  ])('fails on %s', async (_name, filePath, code) => {
    const errors = await layeringErrors(filePath, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/is not a layer this folder may import|does not load the got, axios or undici adapters|never imports a test/);
  });

  it.each([
    ['the manager importing the endpoint and the store', 'lib/manager/x.ts', "import { TokenEndpoint } from '../endpoint/token-endpoint.js';\nimport { LruTokenStore } from '../store/lru-store.js';\nexport const x = [TokenEndpoint, LruTokenStore];\n"],
    ['an adapter importing the manager', 'lib/http/x.ts', "import { TokenManager } from '../manager/token-manager.js';\nexport const x = TokenManager;\n"],
    ['the main entry exporting the fetch adapter', 'lib/index.ts', "export { authFetch } from './http/fetch.js';\n"],
  ])('passes %s', async (_name, filePath, code) => {
    expect(await layeringErrors(filePath, code)).toEqual([]);
  });
});
