// Runs after the test framework in every test file (see jest.config.ts).
// nock must be restored at the end of each file, or later files in the same worker fail with
// "Disallowed net connect" (TOOLCHAIN.md, pitfall 5). Nothing may reach beyond loopback.
import { afterAll, afterEach } from '@jest/globals';
import nock from 'nock';

nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.restore();
});
