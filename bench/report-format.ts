/** Markdown tables and the report's number formats (one place, so every table reads alike). */
import type { DatabaseProvider } from './results';

export type Align = 'left' | 'right';

/** A GitHub-flavoured Markdown table; `|` in cells is escaped. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
) {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (cells: readonly string[]) => `| ${cells.map(escape).join(' | ')} |`;
  const rule = headers.map((_, index) => ((align?.[index] ?? 'left') === 'right' ? '---:' : '---'));
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

export const dash = '—';

/** Milliseconds with the precision the size deserves; seconds from 10 s, minutes from 2 min, hours from 1 h. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return dash;
  if (value >= 3_600_000) return `${(value / 3_600_000).toFixed(1)} h`;
  if (value >= 120_000) return `${(value / 60_000).toFixed(1)} min`;
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 100) return `${Math.round(value)} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

/** A ratio as a multiplier, e.g. 0.25×, 3.4×, 220,000×. */
export function times(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return dash;
  if (value >= 1000) return `${Math.round(value).toLocaleString('en-US')}×`;
  if (value >= 10) return `${value.toFixed(1)}×`;
  return `${value.toFixed(2)}×`;
}

export function perSecond(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return dash;
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function percent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return dash;
  return `${Math.round(share * 100)}%`;
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return dash;
  const gib = 1024 ** 3;
  const mib = 1024 ** 2;
  return value >= gib ? `${(value / gib).toFixed(1)} GiB` : `${Math.round(value / mib)} MiB`;
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

export function cores(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return dash;
  return value.toFixed(2);
}

export const providerLabel: Record<DatabaseProvider, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
