import type { Cell, Report, Row } from './figure.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmtCell(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  return String(v);
}

function table(rows: readonly Row[]): string {
  if (rows.length === 0) return '<p>(no rows)</p>';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const head = cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${cols.map((c) => `<td>${escapeHtml(fmtCell(r[c]))}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const STYLE = `body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
figure{margin:2em 0;border-top:1px solid #ddd;padding-top:1em}figcaption{font-size:.9em;color:#444;margin:.4em 0}
figcaption b{display:block;font-size:1.1em;color:#222}svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:.8em;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f3f3f3}.notes li{font-size:.9em;margin:.3em 0}nav a{margin-right:1em}`;

/**
 * One self-contained page: inline CSS, every chart an inline <svg> (rendered in Node), no scripts,
 * no fonts, no links to fetch, so it opens offline. `svgs` holds the SVG of each figure, in order.
 */
export function renderHtml(report: Report, svgs: readonly string[]): string {
  const nav = report.figures.map((f) => `<a href="#${f.id}">${escapeHtml(f.title)}</a>`).join(' ');
  const figures = report.figures
    .map(
      (f, i) => `<figure id="${f.id}" data-figure="${f.id}">
<figcaption><b>${escapeHtml(f.title)}</b>${escapeHtml(f.caption)} Data: <code>data/${f.id}.csv</code>, SVG: <code>figures/${f.id}.svg</code>.</figcaption>
${svgs[i].replace(/^<svg /, `<svg role="img" aria-label="${escapeHtml(f.title)}" `)}
</figure>`,
    )
    .join('\n');
  const tables = report.tables.map((t) => `<section><h2>${escapeHtml(t.title)}</h2>\n${table(t.rows)}</section>`).join('\n');
  const notes = report.notes.length ? `<section class="notes"><h2>Method and sources</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(report.title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(report.title)}</h1><p>${escapeHtml(report.subtitle)}</p><nav>${nav}</nav>
${figures}
${tables}
${notes}
</body></html>
`;
}
