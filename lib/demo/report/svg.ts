/**
 * A few helpers to write SVG and HTML as strings: escaping, elements, numbers and the time axis.
 * Every text and attribute goes through {@link escapeXml}, so that a user id cannot inject markup.
 */

/** Escapes text for an XML/HTML text node or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Attribute values: strings are escaped, numbers rounded to 0.1 px, undefined ones left out. */
export type Attrs = Record<string, string | number | undefined>;

/** Formats a coordinate or length with at most one decimal. */
export function num(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function attributes(attrs: Attrs): string {
  return Object.entries(attrs)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}="${typeof value === 'number' ? num(value) : escapeXml(value!)}"`)
    .join('');
}

/** An element; `children` is markup already (use {@link escapeXml} or {@link text} for text). */
export function el(name: string, attrs: Attrs = {}, children?: string | string[]): string {
  const inner = Array.isArray(children) ? children.join('') : children;
  return inner === undefined || inner === '' ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${inner}</${name}>`;
}

/** A `<text>` element with escaped content. */
export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, escapeXml(content));
}

/** A linear map from a domain [d0, d1] onto a range [r0, r1]. */
export function linear(d0: number, d1: number, r0: number, r1: number): (value: number) => number {
  const span = d1 - d0 || 1;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** A tick step (1, 2 or 5 × a power of ten) giving about `target` ticks over `span`. */
export function niceStep(span: number, target: number): number {
  const raw = Math.max(span, Number.EPSILON) / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step ?? 10 * power;
}

/** A `<title>` (the tooltip of its parent) with escaped content. */
export function tooltip(content: string): string {
  return el('title', {}, escapeXml(content));
}
