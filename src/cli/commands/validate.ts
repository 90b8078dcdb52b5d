import type { Command } from 'commander';
import { loadValidationCases, validate, type Metric } from '../../perf/validation.js';
import { formatSeconds, formatTable, printJson } from '../util.js';

const LABEL: Record<Metric, string> = { ttftS: 'TTFT', tpotS: 'TPOT', outputTokensPerS: 'tokens/s' };

function show(metric: Metric, v: number): string {
  return metric === 'outputTokensPerS' ? v.toFixed(0) : formatSeconds(v);
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('predict every published measurement in data/validation and report the error per case and the MAPE per metric')
    .option('--dir <folder>', 'validation folder (default: the bundled data/validation)')
    .option('--json', 'print JSON')
    .action((opts: { dir?: string; json?: boolean }) => {
      const report = validate(loadValidationCases(opts.dir));
      if (opts.json) {
        printJson({
          mape: report.mape,
          overallMape: report.overallMape,
          skipped: report.skipped,
          cases: report.cases.map((r) => ({
            id: r.id,
            model: r.case.model,
            gpu: r.case.gpu,
            tp: r.case.tp,
            instances: r.case.instances,
            engine: r.case.engine,
            mode: r.case.mode,
            batch: r.prediction.batch,
            inputTokens: r.case.inputTokens,
            outputTokens: r.case.outputTokens,
            metrics: r.metrics,
            source: r.case.source,
          })),
        });
        return;
      }
      const rows: (string | number)[][] = [['case', 'metric', 'predicted', 'measured', 'error']];
      for (const r of report.cases) {
        for (const m of r.metrics) {
          rows.push([r.id, LABEL[m.metric], show(m.metric, m.predicted), show(m.metric, m.measured), `${(100 * m.error).toFixed(1)}%`]);
        }
      }
      const lines = [formatTable(rows, ['l', 'l', 'r', 'r', 'r']), ''];
      const mapeRows: (string | number)[][] = [['metric', 'cases', 'MAPE']];
      for (const [metric, v] of Object.entries(report.mape) as [Metric, { value: number; cases: number }][]) {
        mapeRows.push([LABEL[metric], v.cases, `${(100 * v.value).toFixed(1)}%`]);
      }
      mapeRows.push(['all', report.cases.reduce((a, r) => a + r.metrics.length, 0), `${(100 * report.overallMape).toFixed(1)}%`]);
      lines.push(formatTable(mapeRows, ['l', 'r', 'r']));
      for (const s of report.skipped) lines.push(`skipped ${s.id}: ${s.reason}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
