import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { UserError } from '../../errors.js';
import { resolveModel } from '../../models/index.js';
import { ENGINE_IDS } from '../../perf/engines.js';
import { WEIGHT_DTYPES, type WeightDtype } from '../../perf/graph.js';
import { toChromeTrace } from '../../agents/chrome-trace.js';
import { runMonteCarlo, type AgentSummary } from '../../agents/montecarlo.js';
import { accuracyFor, BENCHMARKS, WORKFLOWS, type BenchmarkId, type WorkflowId } from '../../agents/presets.js';
import { buildAgentTarget } from '../../agents/setup.js';
import { readTraceFile } from '../../agents/trace.js';
import { formatSeconds, formatSi, formatTable, oneOf, parseNonNegative, parseNumber, parsePositive, parsePositiveInt, printJson } from '../util.js';

interface AgentCliOptions {
  workflow?: WorkflowId;
  benchmark?: BenchmarkId;
  model: string;
  gpu?: string;
  profile?: string;
  engine: string;
  tp?: number;
  prefixCaching: 'on' | 'off';
  episodes: number;
  seed: number;
  queriesPerDay: number;
  pue: number;
  accuracy?: number;
  weightDtype: WeightDtype;
  decodeChunk: number;
  trace?: string;
  traceOut?: string;
  json?: boolean;
}

/** 500 M weekly users / 7: one agent query per user per day (the study's Table IV). */
export const STUDY_QUERIES_PER_DAY = 71.4e6;

function parseAccuracy(v: string): number {
  const x = parseNonNegative(v);
  if (x > 1) throw new InvalidArgumentError(`'${v}' must be between 0 and 1`);
  return x;
}

function parseSeed(v: string): number {
  const x = parseNumber(v);
  if (!Number.isInteger(x)) throw new InvalidArgumentError(`'${v}' is not a whole number`);
  return x;
}

export function formatAgentSummary(s: AgentSummary, header: [string, string][]): string {
  const rows: (string | number)[][] = [
    ['quantity', 'value'],
    ...header,
    ['episodes', s.episodes],
    ['latency mean / p50 / p95 / p99', [s.latencyS.mean, s.latencyS.p50, s.latencyS.p95, s.latencyS.p99].map(formatSeconds).join(' / ')],
    ['GPU energy per query mean / p95', `${s.energyWh.mean.toPrecision(4)} Wh / ${s.energyWh.p95.toPrecision(4)} Wh (${formatSi(s.energyJ.mean, 'J')} mean)`],
    ['LLM calls (mean)', s.llmCalls.mean.toFixed(1)],
    ['input / output tokens (mean)', `${s.inputTokens.mean.toFixed(0)} / ${s.outputTokens.mean.toFixed(0)}`],
    ['prefilled tokens (mean, after cache hits)', s.prefillTokens.mean.toFixed(0)],
    ['GPU idle fraction', `${(100 * s.gpuIdleFraction).toFixed(1)}%`],
    ['tool share of latency', `${(100 * s.toolLatencyShare).toFixed(1)}%`],
    ['prefill share of GPU time', `${(100 * s.prefillShareOfGpuTime).toFixed(1)}%`],
    ['KV cache per request mean / max', `${formatSi(s.kvCacheBytes.mean, 'B')} / ${formatSi(s.kvCacheBytes.max, 'B')}`],
    [`fleet power at ${formatSi(s.queriesPerDay, 'queries/day')}, PUE ${s.pue}`, formatSi(s.fleetPowerW, 'W')],
  ];
  return formatTable(rows, ['l', 'l']);
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('simulate an agent workflow (or a recorded trace): latency, GPU energy, KV memory, fleet power')
    .option('--workflow <id>', `workflow: ${WORKFLOWS.join(', ')}`, oneOf(WORKFLOWS))
    .option('--benchmark <id>', `benchmark (tools, prompt sizes): ${BENCHMARKS.join(', ')}; ignored by sharegpt`, oneOf(BENCHMARKS))
    .requiredOption('--model <id|file>', 'built-in model id or a Hugging Face config.json')
    .option('--gpu <id>', 'catalog accelerator; see roofcast devices')
    .option('--profile <file>', 'calibrated device profile instead of --gpu (power from its calibrate --power record, else --gpu)')
    .option('--engine <id>', `serving engine: ${ENGINE_IDS.join(', ')}`, 'vllm')
    .option('--tp <n>', 'tensor-parallel GPUs (default: the smallest that holds the weights and one 8k-token request)', parsePositiveInt)
    .option('--prefix-caching <on|off>', 'reuse the KV of repeated prompt prefixes', oneOf(['on', 'off'] as const), 'on')
    .option('--episodes <n>', 'Monte Carlo episodes', parsePositiveInt, 1000)
    .option('--seed <n>', 'random seed (same seed, same episodes)', parseSeed, 1)
    .option('--queries-per-day <q>', 'queries per day for fleet power (default 71.4e6: the study)', parsePositive, STUDY_QUERIES_PER_DAY)
    .option('--pue <p>', 'power usage effectiveness applied to fleet power', parsePositive, 1)
    .option('--accuracy <a>', 'task accuracy that sets Reflexion/LATS stopping (default: the study, else the benchmark default)', parseAccuracy)
    .option('--weight-dtype <dtype>', `weight format: ${WEIGHT_DTYPES.join(', ')}`, oneOf(WEIGHT_DTYPES), 'bf16')
    .option('--decode-chunk <n>', 'cost every n-th decode step and scale (speed)', parsePositiveInt, 16)
    .option('--trace <file.jsonl>', 'cost a recorded trace (one session per line) instead of a workflow')
    .option('--trace-out <file>', 'write the first episode as a Chrome trace (open in Perfetto)')
    .option('--json', 'print JSON')
    .action((o: AgentCliOptions) => {
      if (!o.trace && !o.workflow) throw new UserError('give --workflow ID or --trace FILE.jsonl');
      if (o.trace && o.workflow) throw new UserError('give either --workflow or --trace, not both');
      if (!o.gpu && !o.profile) throw new UserError('give --gpu ID (see roofcast devices) or --profile FILE');
      const workflow = o.workflow;
      let benchmark: BenchmarkId | undefined = o.benchmark;
      if (workflow && workflow !== 'sharegpt' && !benchmark) {
        throw new UserError(`--benchmark is required for ${workflow} (${BENCHMARKS.join(', ')})`);
      }
      if (workflow === 'sharegpt') benchmark = undefined; // single-turn chat has no tools
      const model = resolveModel(o.model);
      const target = buildAgentTarget({ model, gpu: o.gpu, profile: o.profile, engine: o.engine, tp: o.tp, weightDtype: o.weightDtype });
      // only Reflexion trials and LATS iterations stop on success
      const stops = workflow === 'reflexion' || workflow === 'lats';
      const accuracy = stops ? (o.accuracy ?? accuracyFor(model.id, workflow, benchmark ?? 'hotpotqa').value) : undefined;
      const sessions = o.trace ? readTraceFile(o.trace) : null;
      const source = sessions
        ? { sessions }
        : { generate: { workflow: workflow as WorkflowId, benchmark: benchmark ?? 'hotpotqa', accuracy: accuracy ?? 0 } };
      // progress on stderr, only on a terminal
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: 'episodes {bar} {value}/{total}' }) : null;
      bar?.start(sessions ? sessions.length : o.episodes, 0);
      const mc = runMonteCarlo(target.sim, source, {
        onProgress: (done) => bar?.update(done),
        episodes: o.episodes,
        seed: o.seed,
        queriesPerDay: o.queriesPerDay,
        pue: o.pue,
        prefixCaching: o.prefixCaching === 'on',
        decodeChunk: o.decodeChunk,
        record: Boolean(o.traceOut),
      });
      bar?.stop();
      const title = o.trace ? `trace ${o.trace}` : `${workflow}${benchmark ? ` on ${benchmark}` : ''}`;
      if (o.traceOut) {
        const chrome = toChromeTrace(mc.first.result, target.tp, `${title}: ${model.id} on ${target.perf.id} x ${target.tp}`);
        try {
          writeFileSync(o.traceOut, JSON.stringify(chrome));
        } catch (err) {
          throw new UserError(`cannot write ${o.traceOut}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      }
      const s = mc.summary;
      if (o.json) {
        printJson({
          workflow: workflow ?? null,
          benchmark: benchmark ?? null,
          trace: o.trace ?? null,
          model: model.id,
          target: target.perf.id,
          engine: target.engine,
          tp: target.tp,
          tpSource: target.tpSource,
          prefixCaching: o.prefixCaching === 'on',
          seed: o.seed,
          accuracy: accuracy ?? null,
          decodeChunk: o.decodeChunk,
          ...s,
          power: target.sim.power,
          traceOut: o.traceOut ?? null,
        });
        return;
      }
      process.stdout.write(
        formatAgentSummary(s, [
          ['workload', title],
          ['model / target', `${model.id} on ${target.perf.id} x ${target.tp} (tp ${target.tpSource}), ${target.engine}`],
          ['prefix caching', o.prefixCaching],
        ]) + '\n',
      );
      if (o.traceOut) process.stdout.write(`wrote one episode as a Chrome trace to ${o.traceOut} (open in ui.perfetto.dev)\n`);
    });
}
