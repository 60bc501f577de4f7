// Redaction runs on text that a server controls (the HTTP reason phrase ends up in got's message),
// so its work must grow linearly with the input: a backtracking regex would let one answer block
// the event loop for seconds. Each input is run at growing sizes up to 1 MB, and the run stops at
// the first size over a generous limit, so a quadratic version fails fast instead of hanging.
import { describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { redactUrl, redactUrlsIn, replaceUrlsIn } from '../lib/shared/errors.js';

/** Far above what a linear scan of 1 MB needs (a few ms), far below what a quadratic one needs at 64 kB. */
const LIMIT_MS = 1500;
const SIZES = [16_000, 64_000, 256_000, 1_000_000];

/** The largest size that finished under the limit, and the time of the size that did not, if any. */
function largestUnderLimit(build: (size: number) => string, run: (text: string) => unknown): { size: number; overMs?: number } {
  let done = 0;
  for (const size of SIZES) {
    const text = build(size);
    const started = performance.now();
    run(text);
    const elapsed = performance.now() - started;
    if (elapsed > LIMIT_MS) return { size: done, overMs: Math.round(elapsed) };
    done = size;
  }
  return { size: done };
}

const repeat = (unit: string) => (size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

describe('redaction does work linear in its input', () => {
  it.each([
    ['scheme characters split by dashes', repeat('a-')],
    ['scheme characters split by dots', repeat('a.')],
    ['scheme characters split by plus signs', repeat('x+')],
    ['scheme-like words each cut short of ://', repeat('ab:/')],
    ['many URLs without a body', repeat('a:// ')],
    ['one URL with a 1 MB path', (size: number) => `see https://h.example/${'p'.repeat(size)}`],
    ['a reason phrase as got quotes it', (size: number) => `Response code 503 (${repeat('a-')(size)})`],
  ])('redactUrlsIn on %s finishes 1 MB under the limit', (_what, build) => {
    expect(largestUnderLimit(build, redactUrlsIn)).toEqual({ size: 1_000_000 });
  });

  it.each([
    ['a string with no slash and no @', repeat('a')],
    ['a string of colons and letters', repeat('a:')],
    ['a scheme and a long authority with no @', (size: number) => `https://${'a'.repeat(size)} x`],
  ])('redactUrl on %s that does not parse finishes 1 MB under the limit', (_what, build) => {
    expect(largestUnderLimit(build, redactUrl)).toEqual({ size: 1_000_000 });
  });
});

describe('the scan finds the URLs the former pattern found', () => {
  // The pattern the scan replaces: correct, but quadratic on some inputs. Short inputs only.
  const PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>()]+/gi;
  const mark = (url: string) => `<${url}>`;

  it('on 20,000 random short strings over the characters that matter', () => {
    const alphabet = ['a', 'Z', '7', '_', '+', '-', '.', ':', '/', '//', '://', ' ', '"', '(', '@', '?', 'é', '\n'];
    let seed = 19;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const differ: string[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      let text = '';
      const length = Math.floor(random() * 24);
      for (let j = 0; j < length; j += 1) text += alphabet[Math.floor(random() * alphabet.length)];
      if (replaceUrlsIn(text, mark) !== text.replace(PATTERN, mark)) differ.push(text);
    }
    expect(differ).toEqual([]);
  });

  it.each([
    ['a URL in a sentence', 'GET https://u:p@api.example/x?k=v failed', 'GET <https://u:p@api.example/x?k=v> failed'],
    ['a URL in quotes', 'at "http://h/p" and (ftp://f)', 'at "<http://h/p>" and (<ftp://f>)'],
    ['a scheme after an underscore starts at the next word', 'x_ab://h', 'x_ab://h'],
    ['a scheme starts at a letter that begins a word', '--1a+b://h y', '--1a+<b://h> y'],
    ['two URLs with no space between them are one', 'http://a,https://b', '<http://a,https://b>'],
  ])('%s', (_what, text, expected) => {
    expect(replaceUrlsIn(text, mark)).toBe(expected);
    expect(text.replace(PATTERN, mark)).toBe(expected);
  });
});

describe('a string that does not parse as a URL is described, never shown', () => {
  it.each([
    ['a password with a slash', 'https://client:pa/ss-SECRET@api.example/token', 'https:'],
    ['a space in the host', 'https://client:SECRET@api .example/token', 'https:'],
    ['no scheme: the user name is not taken for one', 'client:SECRET@api.example', undefined],
    ['a query string after a typo in the scheme', 'https//api.example/token?client_secret=SECRET', undefined],
  ])('%s', (_what, text, scheme) => {
    const shown = redactUrl(text);
    expect(shown).not.toContain('SECRET');
    expect(shown).not.toContain('client');
    expect(shown).toContain(`${text.length} characters`);
    if (scheme === undefined) expect(shown).not.toContain('scheme');
    else expect(shown).toContain(`scheme \`${scheme}\``);
  });

  it('a URL that parses keeps its host and path, without userinfo, query or fragment', () => {
    expect(redactUrl('redis://user:SECRET@cache.internal:6380/0?x=1#y')).toBe('redis://[redacted]@cache.internal:6380/0?[redacted]#[redacted]');
  });
});
