import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { toCsv, type Report } from './figure.js';
import { renderHtml } from './html.js';
import { renderSvg } from './vega.js';

export interface WrittenReport {
  dir: string;
  files: string[];
  figures: { id: string; title: string }[];
}

/** Renders every figure to SVG and writes index.html, figures/*.svg, data/*.csv|json and report.json. */
export async function writeReport(report: Report, dir: string): Promise<WrittenReport> {
  const svgs: string[] = [];
  for (const f of report.figures) svgs.push(await renderSvg(f.spec));
  const files: string[] = [];
  const put = (rel: string, text: string) => {
    writeFileSync(join(dir, rel), text);
    files.push(rel);
  };
  try {
    mkdirSync(join(dir, 'figures'), { recursive: true });
    mkdirSync(join(dir, 'data'), { recursive: true });
    report.figures.forEach((f, i) => {
      put(`figures/${f.id}.svg`, svgs[i]);
      put(`data/${f.id}.csv`, toCsv(f.data));
      put(`data/${f.id}.json`, JSON.stringify(f.data, null, 1) + '\n');
      put(`figures/${f.id}.vl.json`, JSON.stringify(f.spec, null, 1) + '\n');
    });
    report.tables.forEach((t, i) => put(`data/table-${i + 1}.csv`, toCsv(t.rows)));
    put('report.json', JSON.stringify(report.json, null, 2) + '\n');
    put('index.html', renderHtml(report, svgs));
  } catch (err) {
    throw new UserError(`cannot write the report to ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return { dir, files, figures: report.figures.map((f) => ({ id: f.id, title: f.title })) };
}
