import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { reproduceStudy, type StudyResult } from '../../agents/study.js';
import { formatSi, formatTable, parsePositiveInt, printJson } from '../util.js';

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

export function formatStudy(r: StudyResult): string {
  const t3 = formatTable([
    ['model (GPUs)', 'workload', 'latency s (study)', 'latency s (model)', 'error', 'Wh/query (study)', 'Wh/query (model)', 'error', 'LLM calls', 'GPU idle'],
    ...r.tableIII.map((row) => [
      `${row.model} (${row.gpus}x)`,
      row.workload,
      row.published.latencyS.toFixed(2),
      row.predicted.latencyS.mean.toFixed(2),
      pct(row.latencyError),
      row.published.energyWh.toFixed(2),
      row.predicted.energyWh.mean.toFixed(2),
      pct(row.energyError),
      row.predicted.llmCalls.mean.toFixed(1),
      `${(100 * row.predicted.gpuIdleFraction).toFixed(0)}%`,
    ]),
  ]);
  const t4 = formatTable([
    ['model', 'workload', 'queries/day', 'study', 'formula on study Wh', 'model', 'error'],
    ...r.tableIV.map((f) => [
      f.model,
      f.workload,
      formatSi(f.queriesPerDay, ''),
      formatSi(f.publishedW, 'W'),
      formatSi(f.formulaFromPublishedW, 'W'),
      formatSi(f.predictedW, 'W'),
      pct(f.error),
    ]),
  ]);
  const extra = formatTable([
    ['model (GPUs)', 'workload', 'latency p95 s', 'prefill share of GPU time', 'tool share', 'KV per request mean / max', 'input / output tokens'],
    ...r.tableIII.map((row) => [
      `${row.model} (${row.gpus}x)`,
      row.workload,
      row.predicted.latencyS.p95.toFixed(1),
      `${(100 * row.predicted.prefillShareOfGpuTime).toFixed(1)}%`,
      `${(100 * row.predicted.toolLatencyShare).toFixed(0)}%`,
      `${formatSi(row.predicted.kvCacheBytes.mean, 'B')} / ${formatSi(row.predicted.kvCacheBytes.max, 'B')}`,
      `${row.predicted.inputTokens.mean.toFixed(0)} / ${row.predicted.outputTokens.mean.toFixed(0)}`,
    ]),
  ]);
  const fitted = r.parameters.filter((p) => p.origin === 'fitted');
  const counts = (['study', 'other source', 'assumed', 'fitted'] as const).map((o) => `${r.parameters.filter((p) => p.origin === o).length} ${o}`);
  return [
    `${r.source}`,
    `setup: HotpotQA, ${r.setup.gpu}, engine ${r.setup.engine}, one request at a time, prefix caching on; ${r.setup.episodes} episodes, seed ${r.setup.seed}`,
    '',
    'Table III: latency and GPU energy per query (whole instance, tool waits at idle power)',
    t3,
    '',
    'Table IV: fleet power = Wh/query x queries/day / 24 h (PUE 1)',
    t4,
    '',
    'Predicted, not measured by the study',
    extra,
    '',
    `parameters: ${counts.join(', ')} (all listed with sources in --json)`,
    ...fitted.map((p) => `fitted: ${p.name} = ${String(p.value)}: ${p.source}`),
    '',
    `largest error: latency ${pct(r.maxAbsLatencyError).replace('+', '')}, energy ${pct(r.maxAbsEnergyError).replace('+', '')}`,
  ].join('\n');
}

export function registerStudy(program: Command): void {
  program
    .command('study')
    .description("reproduce Tables III and IV of the agent-cost study (Kim et al. 2025) and show each cell's error")
    .option('--episodes <n>', 'Monte Carlo episodes per cell', parsePositiveInt, 1000)
    .option('--seed <n>', 'random seed', parsePositiveInt, 1)
    .option('--json', 'print JSON')
    .action((o: { episodes: number; seed: number; json?: boolean }) => {
      // progress on stderr, only on a terminal
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: 'study {bar} {value}/{total} cells' }) : null;
      bar?.start(6, 0);
      const r = reproduceStudy({ episodes: o.episodes, seed: o.seed, onProgress: (done) => bar?.update(done) });
      bar?.stop();
      if (o.json) printJson(r);
      else process.stdout.write(formatStudy(r) + '\n');
    });
}
