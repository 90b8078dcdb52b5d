import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../../errors.js';
import { resolveModel } from '../../models/index.js';
import { ENGINE_IDS } from '../../perf/engines.js';
import { WEIGHT_DTYPES, type WeightDtype } from '../../perf/graph.js';
import { accuracyFor, BENCHMARKS, WORKFLOWS, type BenchmarkId, type WorkflowId } from '../../agents/presets.js';
import { buildInstance } from '../../serving/instance.js';
import { servePoint, type ServePoint } from '../../serving/report.js';
import { parseSweep, serveAt, sweep, type ServeConfig } from '../../serving/sweep.js';
import { readServeTrace, type ArrivalSpan, type SessionSource } from '../../serving/workload.js';
import { formatSeconds, formatSi, formatTable, oneOf, parseNonNegative, parsePositive, parsePositiveInt, printJson } from '../util.js';

interface ServeCliOptions {
  workflow?: WorkflowId;
  benchmark?: BenchmarkId;
  trace?: string;
  model: string;
  gpu?: string;
  profile?: string;
  engine: string;
  tp?: number;
  weightDtype: WeightDtype;
  qps?: number;
  sweep?: string;
  prefixCaching: 'on' | 'off';
  chunkedPrefill: 'on' | 'off';
  duration?: number;
  sessions?: number;
  seed: number;
  kneeFactor: number;
  accuracy?: number;
  maxBatchedTokens?: number;
  maxSeqs?: number;
  json?: boolean;
}

const DEFAULT_DURATION_S = 600;

function parseSeed(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isInteger(x)) throw new InvalidArgumentError(`'${v}' is not a whole number`);
  return x;
}

function parseAccuracy(v: string): number {
  const x = parseNonNegative(v);
  if (x > 1) throw new InvalidArgumentError(`'${v}' must be between 0 and 1`);
  return x;
}

function parseKneeFactor(v: string): number {
  const x = parsePositive(v);
  if (x < 1) throw new InvalidArgumentError(`'${v}' must be at least 1`);
  return x;
}

const pctText = (p: { p50: number; p95: number; p99: number }) => [p.p50, p.p95, p.p99].map(formatSeconds).join(' / ');
const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

function pointRows(p: ServePoint): (string | number)[][] {
  return [
    ['offered / served', `${p.qps.toPrecision(4)} / ${p.throughputQps.toPrecision(4)} queries/s (${p.sessions} sessions, ${p.llmCalls} LLM calls)`],
    ['latency p50 / p95 / p99', pctText(p.latencyS)],
    ['TTFT p50 / p95 / p99', pctText(p.ttftS)],
    ['TPOT p50 / p95 / p99', pctText(p.tpotS)],
    ['energy per query (mean / p95)', `${p.energyWhPerQuery.toPrecision(4)} Wh / ${p.energyWhPerSessionP95.toPrecision(4)} Wh`],
    ['KV cache used mean / max (pool)', `${formatSi(p.kvCacheBytes.mean, 'B')} / ${formatSi(p.kvCacheBytes.max, 'B')} (${formatSi(p.kvPoolBytes, 'B')})`],
    ['prefix-cache hit rate', percent(p.prefixHitRate)],
    ['GPU utilisation', percent(p.gpuUtilisation)],
    ['mean batch / preemptions', `${p.meanBatch.toFixed(1)} sequences / ${p.preemptions}`],
  ];
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve agent sessions under Poisson load on one instance: throughput, latency, TTFT/TPOT, KV memory, energy; --sweep finds the knee')
    .option('--workflow <id>', `workflow: ${WORKFLOWS.join(', ')}`, oneOf(WORKFLOWS))
    .option('--benchmark <id>', `benchmark (tools, prompt sizes): ${BENCHMARKS.join(', ')}; ignored by sharegpt`, oneOf(BENCHMARKS))
    .option('--trace <file.jsonl>', 'serve a recorded trace (one session per line, optional "arrivalS") instead of a workflow')
    .requiredOption('--model <id|file>', 'built-in model id or a Hugging Face config.json')
    .option('--gpu <id>', 'catalog accelerator; see roofcast devices')
    .option('--profile <file>', 'calibrated device profile instead of --gpu (power from its calibrate --power record, else --gpu)')
    .option('--engine <id>', `serving engine: ${ENGINE_IDS.join(', ')}`, 'vllm')
    .option('--tp <n>', 'tensor-parallel GPUs (default: the smallest that holds the weights and one 8k-token request)', parsePositiveInt)
    .option('--weight-dtype <dtype>', `weight format: ${WEIGHT_DTYPES.join(', ')}`, oneOf(WEIGHT_DTYPES), 'bf16')
    .option('--qps <q>', 'offered load: Poisson arrivals, sessions per second', parsePositive)
    .option('--sweep <q1:q2:step>', 'offered loads from q1 to q2; prints the curve and the knee')
    .option('--prefix-caching <on|off>', 'automatic prefix caching (block hashes, LRU)', oneOf(['on', 'off'] as const), 'on')
    .option('--chunked-prefill <on|off>', 'split long prompts over steps to the token budget', oneOf(['on', 'off'] as const), 'on')
    .option('--duration <s>', `arrival window in seconds (default ${DEFAULT_DURATION_S}); the run continues until every session ends`, parsePositive)
    .option('--sessions <n>', 'a fixed number of arriving sessions instead of --duration', parsePositiveInt)
    .option('--seed <n>', 'random seed (same seed, same sessions and arrivals)', parseSeed, 1)
    .option('--knee-factor <f>', 'knee: highest QPS whose p95 latency stays within f x the unloaded p95', parseKneeFactor, 2)
    .option('--accuracy <a>', 'task accuracy that sets Reflexion/LATS stopping (default: the study, else the benchmark default)', parseAccuracy)
    .option('--max-batched-tokens <n>', 'step token budget (default: the engine\'s)', parsePositiveInt)
    .option('--max-seqs <n>', 'most running sequences (default: the engine\'s)', parsePositiveInt)
    .option('--json', 'print JSON')
    .action((o: ServeCliOptions) => {
      if (!o.trace && !o.workflow) throw new UserError('give --workflow ID or --trace FILE.jsonl');
      if (o.trace && o.workflow) throw new UserError('give either --workflow or --trace, not both');
      if (!o.gpu && !o.profile) throw new UserError('give --gpu ID (see roofcast devices) or --profile FILE');
      if (o.duration !== undefined && o.sessions !== undefined) throw new UserError('give either --duration or --sessions, not both');
      const workflow = o.workflow;
      let benchmark: BenchmarkId | undefined = o.benchmark;
      if (workflow && workflow !== 'sharegpt' && !benchmark) throw new UserError(`--benchmark is required for ${workflow} (${BENCHMARKS.join(', ')})`);
      if (workflow === 'sharegpt') benchmark = undefined; // single-turn chat has no tools

      let source: SessionSource;
      let accuracy: number | undefined;
      const model = resolveModel(o.model);
      if (o.trace) {
        source = readServeTrace(o.trace);
      } else {
        const stops = workflow === 'reflexion' || workflow === 'lats';
        accuracy = stops ? (o.accuracy ?? accuracyFor(model.id, workflow, benchmark ?? 'hotpotqa').value) : undefined;
        source = { kind: 'generate', seed: o.seed, options: { workflow: workflow!, benchmark: benchmark ?? 'hotpotqa', accuracy: accuracy ?? 0 } };
      }
      const replay = source.kind === 'trace' && source.arrivalsS !== null;
      if (replay && (o.qps !== undefined || o.sweep !== undefined || o.duration !== undefined || o.sessions !== undefined)) {
        throw new UserError('the trace carries arrival times (arrivalS): it is replayed as recorded, drop --qps, --sweep, --duration and --sessions');
      }
      if (!replay && o.qps === undefined && o.sweep === undefined) throw new UserError('give --qps Q or --sweep Q1:Q2:STEP');
      if (o.qps !== undefined && o.sweep !== undefined) throw new UserError('give either --qps or --sweep, not both');
      const qpsList = o.sweep !== undefined ? parseSweep(o.sweep) : null;

      const instance = buildInstance({
        model,
        gpu: o.gpu,
        profile: o.profile,
        engine: o.engine,
        tp: o.tp,
        weightDtype: o.weightDtype,
        maxBatchedTokens: o.maxBatchedTokens,
        maxSeqs: o.maxSeqs,
      });
      const span: ArrivalSpan = o.sessions !== undefined ? { sessions: o.sessions } : { durationS: o.duration ?? DEFAULT_DURATION_S };
      const config: ServeConfig = {
        instance,
        source,
        span,
        options: { prefixCaching: o.prefixCaching === 'on', chunkedPrefill: o.chunkedPrefill === 'on' },
      };
      const title = o.trace ? `trace ${o.trace}` : `${workflow}${benchmark ? ` on ${benchmark}` : ''}`;
      const header = {
        workflow: workflow ?? null,
        benchmark: benchmark ?? null,
        trace: o.trace ?? null,
        model: model.id,
        target: instance.target.id,
        engine: instance.engineId,
        tp: instance.tp,
        tpSource: instance.tpSource,
        prefixCaching: config.options.prefixCaching,
        chunkedPrefill: config.options.chunkedPrefill,
        maxBatchedTokens: instance.maxBatchedTokens,
        maxSeqs: instance.maxSeqs,
        kvBlocks: instance.numBlocks,
        blockTokens: instance.blockTokens,
        seed: o.seed,
        accuracy: accuracy ?? null,
        durationS: replay || o.sessions !== undefined ? null : (o.duration ?? DEFAULT_DURATION_S),
        sessionsRequested: o.sessions ?? null,
      };
      const headRows: (string | number)[][] = [
        ['workload', title],
        ['model / target', `${model.id} on ${instance.target.id} x ${instance.tp} (tp ${instance.tpSource}), ${instance.engineId}`],
        ['scheduler', `budget ${instance.maxBatchedTokens} tokens, ${instance.maxSeqs} seqs, chunked prefill ${o.chunkedPrefill}, prefix caching ${o.prefixCaching}`],
        ['KV pool', `${instance.numBlocks} blocks of ${instance.blockTokens} tokens`],
      ];

      if (!qpsList) {
        // replayed traces report the load they carry: sessions over the arrival span
        let qps = o.qps ?? 0;
        if (replay && source.kind === 'trace') {
          const last = Math.max(...source.arrivalsS!);
          qps = last > 0 ? source.sessions.length / last : 0;
        }
        const point = servePoint(serveAt(config, qps));
        if (o.json) return printJson({ ...header, ...point });
        process.stdout.write(formatTable([['quantity', 'value'], ...headRows, ...pointRows(point)], ['l', 'l']) + '\n');
        return;
      }

      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: 'load points {bar} {value}/{total}' }) : null;
      bar?.start(qpsList.length, 0);
      const result = sweep(config, qpsList, o.kneeFactor, (done) => bar?.update(done));
      bar?.stop();
      const points = result.points.map(servePoint);
      const unloadedP95S = result.unloaded.latencyS.p95;
      if (o.json) {
        return printJson({ ...header, kneeFactor: o.kneeFactor, unloadedP95S, unloadedSessions: result.unloaded.sessions, kneeQps: result.kneeQps, points });
      }
      const rows: (string | number)[][] = [
        ['qps', 'served', 'p50', 'p95', 'p99', 'TTFT p95', 'TPOT p50', 'GPU util', 'hit rate', 'Wh/query', 'KV max', 'preempt'],
        ...points.map((p) => [
          p.qps,
          p.throughputQps.toFixed(3),
          formatSeconds(p.latencyS.p50),
          formatSeconds(p.latencyS.p95),
          formatSeconds(p.latencyS.p99),
          formatSeconds(p.ttftS.p95),
          formatSeconds(p.tpotS.p50),
          percent(p.gpuUtilisation),
          percent(p.prefixHitRate),
          p.energyWhPerQuery.toPrecision(3),
          formatSi(p.kvCacheBytes.max, 'B'),
          p.preemptions,
        ]),
      ];
      process.stdout.write(formatTable([['quantity', 'value'], ...headRows], ['l', 'l']) + '\n\n');
      process.stdout.write(formatTable(rows) + '\n\n');
      const limit = o.kneeFactor * unloadedP95S;
      process.stdout.write(
        `unloaded p95 ${formatSeconds(unloadedP95S)} (${result.unloaded.sessions} sessions one at a time); knee (p95 <= ${o.kneeFactor} x unloaded = ${formatSeconds(limit)}): ` +
          (result.kneeQps === null ? 'none: even the lowest load exceeds it\n' : `${result.kneeQps} queries/s\n`),
      );
    });
}
