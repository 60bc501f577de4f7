/** Number formatting for the bench's printed lines and table. */

/** 1234567 → "1,234,567" (rounded). */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

/** A rate per second: "2.85 M/s", "4,210/s". */
export function rate(perSecond: number, unit = '/s'): string {
  if (!Number.isFinite(perSecond)) return String(perSecond);
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M${unit}`;
  return `${int(perSecond)}${unit}`;
}

/** A number with `digits` decimals. */
export function fixed(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

/** Milliseconds: "12.3 ms", "1.42 s". */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value >= 100 ? 0 : 1)} ms`;
}

/** Bytes: "812 B", "7.9 MiB". */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (abs >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (abs >= 10 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}
