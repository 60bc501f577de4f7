/**
 * The JSON of the token endpoint's answers, successes and errors alike.
 */

/**
 * Parses the text of an answer as JSON, as `JSON.parse` does, except that a leading UTF-8 byte-order
 * mark is skipped: RFC 8259 §8.1 lets a parser ignore one, and some servers (often on Windows) send
 * it. Without this, such a server's every answer would fail with `not_json`.
 */
export function parseJsonBody(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}
