import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../../errors.js';
import { acceleratorIds, getAccelerator } from '../../hardware/index.js';
import { priceTable, readPriceFile } from '../../hardware/prices.js';
import { resolveModel } from '../../models/index.js';
import { ENGINE_IDS } from '../../perf/engines.js';
import { WEIGHT_DTYPES, type WeightDtype } from '../../perf/graph.js';
import { BENCHMARKS, WORKFLOWS, type BenchmarkId, type WorkflowId } from '../../agents/presets.js';
import { compareJson, runCompare, SORT_KEYS, type CompareOptions, type CompareResult, type SortKey } from '../../report/compare.js';
import { formatSeconds, formatSi, formatTable, oneOf, parsePositive, parsePositiveInt, printJson } from '../util.js';

/** The flags compare takes; `roofcast report --compare` takes the same ones. */
export interface CompareCliOptions {
  model?: string;
  workflow?: WorkflowId;
  benchmark?: BenchmarkId;
  input?: number;
  output?: number;
  gpus: string;
  qps?: number;
  p95Max?: number;
  priceFile?: string;
  engine: string;
  weightDtype: WeightDtype;
  episodes: number;
  seed: number;
  prefixCaching: 'on' | 'off';
  sort: SortKey;
  json?: boolean;
}

function parseSeed(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x)) throw new InvalidArgumentError(`'${v}' is not a whole number`);
  return x;
}

/** Adds the compare flags to a command (shared with `report --compare`). */
export function addCompareOptions(cmd: Command): Command {
  return cmd
    .option('--model <id|file>', 'built-in model id or a Hugging Face config.json')
    .option('--workflow <id>', `agent workflow: ${WORKFLOWS.join(', ')}`, oneOf(WORKFLOWS))
    .option('--benchmark <id>', `benchmark of the workflow: ${BENCHMARKS.join(', ')}`, oneOf(BENCHMARKS))
    .option('--input <tokens>', 'prompt tokens of a single-call query (instead of --workflow)', parsePositiveInt)
    .option('--output <tokens>', 'output tokens of a single-call query', parsePositiveInt)
    .option('--gpus <ids>', "comma-separated accelerator ids, or 'all'", 'all')
    .option('--qps <q>', 'queries per second to serve (default: one instance at its capacity)', parsePositive)
    .option('--p95-max <s>', 'p95 latency bound per query, seconds', parsePositive)
    .option('--price-file <file>', 'JSON price table overriding the built-in GPU-hour prices')
    .option('--engine <id>', `serving engine: ${ENGINE_IDS.join(', ')}`, 'vllm')
    .option('--weight-dtype <dtype>', `weight format: ${WEIGHT_DTYPES.join(', ')}`, oneOf(WEIGHT_DTYPES), 'bf16')
    .option('--episodes <n>', 'Monte Carlo episodes per accelerator for --workflow', parsePositiveInt, 200)
    .option('--seed <n>', 'random seed of the episodes', parseSeed, 1)
    .option('--prefix-caching <on|off>', 'reuse the KV of repeated prompt prefixes (agents)', oneOf(['on', 'off'] as const), 'on')
    .option('--sort <key>', `rank by: ${SORT_KEYS.join(', ')}`, oneOf(SORT_KEYS), 'cost');
}

function parseGpus(list: string): string[] {
  if (list.trim() === 'all') return acceleratorIds();
  const ids = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (ids.length === 0) throw new UserError("--gpus needs at least one accelerator id, or 'all'");
  return [...new Set(ids.map((id) => getAccelerator(id).id))]; // unknown ids fail with the known list
}

/** Validates the compare flags and turns them into CompareOptions. */
export function compareOptionsFrom(o: CompareCliOptions): CompareOptions {
  if (!o.model) throw new UserError('give --model ID (see roofcast predict --help) for the comparison');
  const tokens = o.input !== undefined || o.output !== undefined;
  if (tokens && o.workflow) throw new UserError('give either --workflow/--benchmark or --input/--output, not both');
  if (!tokens && !o.workflow) throw new UserError('give --workflow ID --benchmark ID, or --input TOKENS --output TOKENS');
  if (tokens && (o.input === undefined || o.output === undefined)) throw new UserError('give both --input and --output');
  if (o.workflow && o.workflow !== 'sharegpt' && !o.benchmark) {
    throw new UserError(`--benchmark is required for ${o.workflow} (${BENCHMARKS.join(', ')})`);
  }
  const model = resolveModel(o.model);
  const overrides = o.priceFile ? readPriceFile(o.priceFile) : [];
  return {
    model,
    workload: tokens
      ? { kind: 'tokens', inputTokens: o.input!, outputTokens: o.output! }
      : {
          kind: 'workflow',
          workflow: o.workflow!,
          benchmark: o.benchmark ?? 'hotpotqa',
          episodes: o.episodes,
          seed: o.seed,
          prefixCaching: o.prefixCaching === 'on',
        },
    gpus: parseGpus(o.gpus),
    engine: o.engine,
    weightDtype: o.weightDtype,
    qps: o.qps,
    p95MaxS: o.p95Max,
    prices: priceTable(overrides),
    sort: o.sort,
  };
}

export function formatCompare(r: CompareResult): string {
  const head = ['#', 'gpu', 'tp', 'p50', 'p95', 'Wh/query', 'GPUs', '$/M queries', 'fleet power', 'batch', 'pareto'];
  const rows = r.rows.map((x) => [
    x.rank,
    x.gpu,
    x.tp,
    formatSeconds(x.latencyS.p50),
    formatSeconds(x.latencyS.p95),
    x.energyWhPerQuery.toPrecision(3),
    x.gpusNeeded,
    x.costPerMillionQueries === null ? 'no price' : x.costPerMillionQueries.toFixed(2),
    formatSi(x.fleetPowerW, 'W'),
    x.batch,
    x.pareto ? '*' : '',
  ]);
  const w = r.workload;
  const what = w.kind === 'tokens' ? `${w.inputTokens} in / ${w.outputTokens} out tokens` : `${w.workflow}${w.workflow === 'sharegpt' ? '' : ` on ${w.benchmark}`} (${w.episodes} episodes)`;
  const demand = r.qps === null ? 'one instance at capacity' : `${r.qps} queries/s`;
  const lines = [
    `${r.model} (${r.weightDtype}, ${r.engine}), ${what}; ${demand}${r.p95MaxS === null ? '' : `, p95 <= ${r.p95MaxS} s`}; ranked by ${r.sort}, * = Pareto front (p95, energy, cost)`,
    formatTable([head, ...rows], ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']),
  ];
  for (const e of r.excluded) lines.push(`excluded ${e.gpu}${e.tp === null ? '' : ` tp ${e.tp}`}: ${e.reason}`);
  const unpriced = r.rows.filter((x) => x.price === null).map((x) => x.gpu);
  if (unpriced.length) lines.push(`no GPU-hour price for ${[...new Set(unpriced)].join(', ')}: add them with --price-file`);
  return lines.join('\n');
}

export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare')
    .description('compare accelerators for a model and workload: latency, energy, GPUs needed, cost, fleet power, Pareto front');
  addCompareOptions(cmd)
    .option('--json', 'print JSON')
    .action((o: CompareCliOptions) => {
      const result = runCompare(compareOptionsFrom(o));
      if (o.json) printJson(compareJson(result));
      else process.stdout.write(formatCompare(result) + '\n');
    });
}
