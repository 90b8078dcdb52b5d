import type { TopLevelSpec } from 'vega-lite';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

/** One chart of a report: its Vega-Lite spec and the numbers behind it (written as CSV and JSON). */
export interface Figure {
  /** kebab-case file stem: figures/<id>.svg, data/<id>.csv */
  id: string;
  title: string;
  /** one or two sentences under the chart: what is plotted and how it was obtained */
  caption: string;
  spec: TopLevelSpec;
  data: Row[];
}

/** A report: titled figures plus tables and notes, rendered by html.ts and written by write.ts. */
export interface Report {
  title: string;
  subtitle: string;
  figures: Figure[];
  /** extra tables shown under the figures (e.g. the ranked comparison) */
  tables: { title: string; rows: Row[] }[];
  notes: string[];
  /** everything behind the report, written as report.json */
  json: unknown;
}

/** Numbers in CSV: shortest round-trip form; strings quoted when they need it. */
export function toCsv(rows: readonly Row[]): string {
  if (rows.length === 0) return '';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: Cell | undefined): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
