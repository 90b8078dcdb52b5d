import type { Command } from 'commander';
import { resolveModel } from '../../models/index.js';
import { resolveTarget } from '../../perf/target.js';
import { ENGINE_IDS, type EngineId } from '../../perf/engines.js';
import { defaultKvDtype, KV_DTYPES, WEIGHT_DTYPES, type KvDtype, type WeightDtype } from '../../perf/graph.js';
import { predict, type PredictionDetail, type PredictMode } from '../../perf/predict.js';
import { formatSeconds, formatSi, formatTable, oneOf, parsePositive, parsePositiveInt, printJson } from '../util.js';
import { UserError } from '../../errors.js';

export interface PredictCliOptions {
  model: string;
  gpu?: string;
  profile?: string;
  memoryGib?: number;
  tp: number;
  batch: number;
  input: number;
  output: number;
  dtype: WeightDtype;
  kvDtype?: KvDtype;
  engine?: EngineId;
  mode: PredictMode;
  breakdown?: boolean;
  json?: boolean;
}

/** The default KV format: the weights' own format when 16/32-bit, bf16 for quantized weights (vLLM kv_cache_dtype=auto). */
function pct(x: number, total: number): string {
  return total > 0 ? `${((100 * x) / total).toFixed(1)}%` : '-';
}

export function formatPrediction(r: PredictionDetail, withBreakdown: boolean): string {
  const rows: (string | number)[][] = [
    ['quantity', 'value'],
    ['model', `${r.model} (${r.weightDtype} weights, ${r.kvDtype} KV)`],
    ['target', `${r.target} x ${r.tp}`],
    ['engine', r.engine],
    ['mode', r.mode],
    ['batch', r.batch],
    ['input / output tokens', `${r.inputTokens} / ${r.outputTokens}`],
    ['TTFT', formatSeconds(r.ttftS)],
    ['TPOT (mean)', formatSeconds(r.tpotS)],
    ['end to end', formatSeconds(r.e2eS)],
    ['output tokens/s', r.outputTokensPerS.toFixed(1)],
    ['weights per GPU', formatSi(r.weightsBytesPerGpu, 'B')],
    ['KV per token', `${formatSi(r.kvBytesPerToken, 'B')} (${formatSi(r.kvBytesPerTokenPerGpu, 'B')} per GPU)`],
    ['KV capacity per GPU', formatSi(Math.max(0, r.kvCapacityBytesPerGpu), 'B')],
    ['largest batch at this context', r.maxBatch],
    ['fits', r.fits ? 'yes' : 'no: the KV cache of this batch exceeds memory'],
  ];
  for (const w of r.warnings) rows.push(['warning', w]);
  let out = formatTable(rows, ['l', 'l']);
  if (withBreakdown) {
    for (const phase of ['prefill', 'decode'] as const) {
      const ops = r.breakdown.filter((b) => b.phase === phase);
      if (!ops.length) continue;
      const total = ops.reduce((a, b) => a + b.seconds, 0);
      const title = phase === 'prefill' ? `prefill (sums to TTFT, all layers)` : `decode (one step, mean over the output; sums to TPOT)`;
      out += `\n\n${title}\n`;
      out += formatTable([['operator', 'seconds', 'share', 'bound'], ...ops.map((o) => [o.op, formatSeconds(o.seconds), pct(o.seconds, total), o.bound])], ['l', 'r', 'r', 'l']);
    }
  }
  return out;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict TTFT, TPOT, throughput and memory of a model on an accelerator (per-operator roofline)')
    .requiredOption('--model <id|file>', 'built-in model id or a Hugging Face config.json')
    .option('--gpu <id>', 'catalog accelerator (reference profile); see roofcast devices')
    .option('--profile <file>', 'calibrated device profile (from roofcast calibrate) instead of --gpu')
    .option('--memory-gib <n>', 'device memory of a --profile target, GiB (default: its largest buffer)', parsePositive)
    .option('--tp <n>', 'tensor-parallel GPUs', parsePositiveInt, 1)
    .option('--batch <n>', 'sequences decoded together (latency mode)', parsePositiveInt, 1)
    .option('--input <tokens>', 'prompt tokens per sequence', parsePositiveInt, 1024)
    .option('--output <tokens>', 'generated tokens per sequence', parsePositiveInt, 128)
    .option('--dtype <t>', `weight format: ${WEIGHT_DTYPES.join(', ')}`, oneOf(WEIGHT_DTYPES), 'bf16')
    .option('--kv-dtype <t>', `KV-cache format: ${KV_DTYPES.join(', ')} (default: bf16; fp16/fp32 with fp16/fp32 weights)`, oneOf(KV_DTYPES))
    .option('--engine <e>', `serving engine: ${ENGINE_IDS.join(', ')} (default: vllm, webgpu with --profile)`, oneOf(ENGINE_IDS))
    .option('--mode <m>', 'latency (the given batch) or throughput (the batch that maximises tokens/s)', oneOf(['latency', 'throughput'] as const), 'latency')
    .option('--breakdown', 'print the per-operator table with the bound of each')
    .option('--json', 'print JSON')
    .action((opts: PredictCliOptions) => {
      if (!opts.gpu && !opts.profile) throw new UserError('give --gpu ID (see roofcast devices) or --profile FILE');
      if (opts.gpu && opts.profile) throw new UserError('give either --gpu or --profile, not both');
      const target = resolveTarget({ gpu: opts.gpu, profile: opts.profile, memoryBytes: opts.memoryGib ? opts.memoryGib * 1024 ** 3 : undefined });
      const model = resolveModel(opts.model);
      const result = predict({
        model,
        target,
        engine: opts.engine ?? (opts.profile ? 'webgpu' : 'vllm'),
        tp: opts.tp,
        workload: {
          batch: opts.batch,
          inputTokens: opts.input,
          outputTokens: opts.output,
          weightDtype: opts.dtype,
          kvDtype: opts.kvDtype ?? defaultKvDtype(opts.dtype),
        },
        mode: opts.mode,
      });
      if (opts.json) printJson(result);
      else process.stdout.write(formatPrediction(result, !!opts.breakdown) + '\n');
    });
}
