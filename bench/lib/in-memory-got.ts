/**
 * A stand-in for got, passed as the manager's `got` option, that answers every token request at
 * once from memory with fresh random Flux-sized tokens.
 *
 * The memory scenario fills 100,000 scopes three times; over loopback HTTP that would take well
 * over a minute on two cores, most of it in the HTTP client. The figure measured there is what the
 * manager keeps per scope, which does not depend on how the answer arrived: the answer still goes
 * through the real path (JSON.parse of the body, strict validation, `createToken`), so the cached
 * strings and objects are exactly those a real answer produces. It implements only what
 * TokenEndpoint uses of got's request promise: awaiting it, `on('downloadProgress')` and `cancel()`.
 */
import type { Got } from 'got';
import { tokenAnswer } from './flux-sized-token.js';

export interface InMemoryGot {
  /** Pass as the manager's `got` option. */
  readonly got: Got;
  /** Requests answered so far. */
  readonly calls: number;
}

export function inMemoryGot({ expiresIn }: { expiresIn: number }): InMemoryGot {
  let calls = 0;
  const request = () => {
    calls++;
    const response = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: tokenAnswer(expiresIn) };
    const promise = Promise.resolve(response) as Promise<typeof response> & { on: () => unknown; cancel: () => void };
    promise.on = () => promise;
    promise.cancel = () => {};
    return promise;
  };
  return {
    got: request as unknown as Got,
    get calls() {
      return calls;
    },
  };
}
