/** Renders results as a Markdown table (for the docs) and as aligned plain text (for the terminal). */
import type { ScenarioResult } from './result.js';

const HEADERS = ['scenario', 'figure', 'floor / baseline (same run)', 'target', 'verdict'];

function rowOf(r: ScenarioResult): string[] {
  return [r.title, r.figure, r.baseline, r.target, r.verdict];
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** A GitHub-flavoured Markdown table of `results`. */
export function markdownTable(results: readonly ScenarioResult[]): string {
  const lines = [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map(() => '---').join('|')}|`];
  for (const r of results) {
    const cells = rowOf(r).map(escapeCell);
    cells[4] = r.verdict === 'MET' ? 'MET' : `**${r.verdict}**`;
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The same table as aligned columns of plain text. */
export function textTable(results: readonly ScenarioResult[]): string {
  const rows = [HEADERS, ...results.map(rowOf)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
