import type { ModelSpec } from '../models/types.js';
import { UserError } from '../errors.js';
import type { Bound, Phase, Prediction, Workload } from './types.js';
import type { EngineId, EngineSpec } from './engines.js';
import type { PerfTarget } from './target.js';
import type { CausalTile } from '../profile/causal.js';
import {
  costAggregate,
  createCostContext,
  prefillPairs,
  decodeAttentionLines,
  newAccumulator,
  type CostContext,
  type StepAccumulator,
  type StepAggregate,
} from './cost.js';
import { checkFits, kvBytesForBatch, maxBatchAtContext, memoryPlan, type MemoryPlan } from './memory.js';
import { kvBytesPerTokenTotal, type KvDtype, type WeightDtype } from './graph.js';

export type PredictMode = 'latency' | 'throughput';

export interface PredictOptions {
  model: ModelSpec;
  target: PerfTarget;
  engine: EngineSpec | EngineId;
  tp?: number;
  workload: Workload;
  mode?: PredictMode;
  /** fill `breakdown` (per-operator list); default true */
  breakdown?: boolean;
}

/** What predict() returns: the fields plus the detail behind them. */
export interface PredictionDetail extends Prediction {
  mode: PredictMode;
  tp: number;
  engine: string;
  target: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  weightDtype: WeightDtype;
  kvDtype: KvDtype;
  prefillSteps: number;
  kvBytesPerTokenPerGpu: number;
  kvCapacityBytesPerGpu: number;
  /** the largest batch whose KV fits at input + output tokens */
  maxBatch: number;
  memoryBytesPerGpu: number;
  /** caveats that do not stop the prediction (context past the model's trained length, KV overflow) */
  warnings: string[];
}

function checkWorkload(w: Workload): void {
  const ints: [string, number, number][] = [
    ['batch', w.batch, 1],
    ['input tokens', w.inputTokens, 1],
    ['output tokens', w.outputTokens, 1],
  ];
  for (const [name, v, min] of ints) {
    if (!Number.isInteger(v) || v < min) throw new UserError(`${name} must be a whole number >= ${min}, got ${v}`);
  }
}

/** The prefill of `batch` prompts of `input` tokens, split evenly over the engine's token-budget steps. */
function prefillAggregate(batch: number, input: number, steps: number, window: number, tile: CausalTile | null): StepAggregate {
  const tokens = (batch * input) / steps;
  return {
    tokens,
    prefillSeqs: batch / steps,
    prefillTokens: tokens,
    prefillPairs: (batch * prefillPairs(input, 0, window, tile)) / steps,
    prefillKvTokens: tokens,
    decodeSeqs: 0,
    decodeKvTokens: 0,
    sampled: batch / steps,
  };
}

function decodeAggregate(batch: number, context: number): StepAggregate {
  return {
    tokens: batch,
    prefillSeqs: 0,
    prefillTokens: 0,
    prefillPairs: 0,
    prefillKvTokens: 0,
    decodeSeqs: batch,
    decodeKvTokens: batch * context,
    sampled: batch,
  };
}

/**
 * Exact sum over integer x in [x0, x1] of max(floor, max(cA x + cB, mA x + mB)): each line is
 * affine, so the sum splits at the crossings into arithmetic series.
 */
export function sumMaxAffine(cA: number, cB: number, mA: number, mB: number, floor: number, x0: number, x1: number): number {
  if (x1 < x0) return 0;
  // crossings of the three lines; between consecutive ones the same line is on top
  let k0 = x1;
  let k1 = x1;
  let k2 = x1;
  const cut = (a1: number, b1: number, a2: number, b2: number) => {
    if (a1 === a2) return x1;
    const x = (b2 - b1) / (a1 - a2);
    return x > x0 && x < x1 ? Math.floor(x) : x1;
  };
  k0 = cut(cA, cB, mA, mB);
  k1 = cut(cA, cB, 0, floor);
  k2 = cut(mA, mB, 0, floor);
  // sort the three cuts (no allocation: this runs in every predict)
  if (k0 > k1) [k0, k1] = [k1, k0];
  if (k1 > k2) [k1, k2] = [k2, k1];
  if (k0 > k1) [k0, k1] = [k1, k0];
  let sum = 0;
  let lo = x0;
  for (const hi of [k0, k1, k2, x1]) {
    if (hi < lo) continue;
    const n = hi - lo + 1;
    const mid = (lo + hi) / 2;
    const c = cA * mid + cB;
    const m = mA * mid + mB;
    if (floor >= c && floor >= m) sum += floor * n;
    else if (c >= m) sum += cA * ((lo + hi) * n) / 2 + cB * n;
    else sum += mA * ((lo + hi) * n) / 2 + mB * n;
    lo = hi + 1;
  }
  return sum;
}

interface LatencyResult {
  ttftS: number;
  decodeS: number;
  prefillSteps: number;
}

const prefillAcc = newAccumulator(false);
const decodeAcc = newAccumulator(false);

/** TTFT and total decode time of a static batch; fills the accumulators' op lists when they have one. */
function runBatch(
  ctx: CostContext,
  batch: number,
  input: number,
  output: number,
  pAcc: StepAccumulator,
  dAcc: StepAccumulator,
): LatencyResult {
  const budget = ctx.engine.maxBatchedTokens.value;
  const prefillSteps = Math.max(1, Math.ceil((batch * input) / budget));
  costAggregate(ctx, prefillAggregate(batch, input, prefillSteps, ctx.windowTokens, ctx.causalTile), pAcc);
  const ttftS = pAcc.seconds * prefillSteps;
  let decodeS = 0;
  const steps = output - 1;
  if (steps > 0) {
    // decode step j (1..output-1) attends to input + j tokens; all but attention is context-free
    const x0 = input + 1;
    const x1 = input + output - 1;
    costAggregate(ctx, decodeAggregate(batch, Math.round((x0 + x1) / 2)), dAcc, true);
    const l = decodeAttentionLines(ctx, batch);
    // a sliding window caps the attended context: past it every step costs the same
    const W = ctx.windowTokens;
    const capped = Math.min(x1, W);
    let attnS = x0 <= capped ? sumMaxAffine(l.cA, l.cB, l.mA, l.mB, l.floor, x0, capped) : 0;
    const beyond = x1 - Math.max(x0 - 1, capped);
    if (beyond > 0) attnS += beyond * Math.max(l.floor, l.cA * W + l.cB, l.mA * W + l.mB);
    attnS *= ctx.geom.layers;
    decodeS = dAcc.seconds * steps + attnS;
    if (dAcc.ops) {
      const mean = attnS / steps;
      const midX = Math.min((x0 + x1) / 2, W);
      const bound: Bound = l.floor > Math.max(l.cA * midX + l.cB, l.mA * midX + l.mB) ? 'overhead' : l.cA * midX + l.cB >= l.mA * midX + l.mB ? 'compute' : 'memory';
      const g = ctx.geom;
      // in graph order: after the KV-cache write, before the output projection
      const at = dAcc.ops.findIndex((o) => o.op === 'kv_cache_write') + 1;
      dAcc.ops.splice(at > 0 ? at : dAcc.ops.length, 0, {
        op: 'attention_decode',
        phase: 'decode',
        seconds: mean,
        bound,
        flops: 4 * g.headDim * g.qHeads * batch * midX * g.layers,
        bytes: batch * midX * 2 * g.kvDim * g.kvBytes * g.layers,
      });
    }
  }
  return { ttftS, decodeS, prefillSteps };
}

function warningsOf(ctx: CostContext, w: Workload, batch: number, plan: MemoryPlan): string[] {
  const out: string[] = [];
  const context = w.inputTokens + w.outputTokens;
  const max = ctx.model.maxContextTokens;
  if (max > 0 && context > max) out.push(`input + output = ${context} tokens exceeds the ${max}-token context of ${ctx.model.id}`);
  if (kvBytesForBatch(plan, batch, context) > plan.kvCapacityBytesPerGpu) {
    out.push(`the KV cache of ${batch} x ${context} tokens exceeds the memory left after weights (largest batch ${maxBatchAtContext(plan, context)})`);
  }
  return out;
}

function summarise(
  ctx: CostContext,
  mode: PredictMode,
  w: Workload,
  batch: number,
  r: LatencyResult,
  plan: MemoryPlan,
  pAcc: StepAccumulator,
  dAcc: StepAccumulator,
): PredictionDetail {
  const e2eS = r.ttftS + r.decodeS;
  const breakdown: { op: string; phase: Phase; seconds: number; bound: Bound }[] = [];
  if (pAcc.ops) {
    for (const o of pAcc.ops) breakdown.push({ op: o.op, phase: 'prefill', seconds: o.seconds * r.prefillSteps, bound: o.bound });
  }
  if (dAcc.ops && w.outputTokens > 1) {
    for (const o of dAcc.ops) breakdown.push({ op: o.op, phase: 'decode', seconds: o.seconds, bound: o.bound });
  }
  const context = w.inputTokens + w.outputTokens;
  return {
    ttftS: r.ttftS,
    tpotS: w.outputTokens > 1 ? r.decodeS / (w.outputTokens - 1) : 0,
    e2eS,
    outputTokensPerS: (batch * w.outputTokens) / e2eS,
    batch,
    weightsBytesPerGpu: plan.weightsBytesPerGpu,
    kvBytesPerToken: kvBytesPerTokenTotal(ctx.model, ctx.kvDtype),
    fits: kvBytesForBatch(plan, batch, context) <= plan.kvCapacityBytesPerGpu,
    breakdown,
    mode,
    tp: ctx.tp,
    engine: ctx.engine.id,
    target: ctx.target.id,
    model: ctx.model.id,
    inputTokens: w.inputTokens,
    outputTokens: w.outputTokens,
    weightDtype: ctx.weightDtype,
    kvDtype: ctx.kvDtype,
    prefillSteps: r.prefillSteps,
    kvBytesPerTokenPerGpu: plan.kvBytesPerTokenPerGpu,
    kvCapacityBytesPerGpu: plan.kvCapacityBytesPerGpu,
    maxBatch: maxBatchAtContext(plan, context),
    memoryBytesPerGpu: ctx.target.memoryBytes,
    warnings: warningsOf(ctx, w, batch, plan),
  };
}

/** Everything predict() needs that does not depend on the batch: build once, evaluate many times. */
export interface Predictor {
  ctx: CostContext;
  plan: MemoryPlan;
}

export function createPredictor(options: Omit<PredictOptions, 'workload' | 'mode' | 'breakdown'> & { weightDtype: WeightDtype; kvDtype: KvDtype }): Predictor {
  const ctx = createCostContext({
    model: options.model,
    target: options.target,
    engine: options.engine,
    tp: options.tp ?? 1,
    weightDtype: options.weightDtype,
    kvDtype: options.kvDtype,
  });
  return { ctx, plan: memoryPlan(ctx.model, ctx.target, ctx.engine, ctx.tp, ctx.weightDtype, ctx.kvDtype) };
}

/**
 * Latency mode: the given static batch, prefilled together then decoded in lockstep.
 * Throughput mode: the batch that maximises output tokens/s among those whose KV cache fits at
 * input + output tokens (and within the engine's sequence limit), as in offline benchmarks.
 * Decode time is summed exactly over the context (attention is the only context-dependent
 * operator and its time is a maximum of affine functions of the context), not step by step.
 */
export function evaluate(p: Predictor, w: Workload, mode: PredictMode = 'latency', breakdown = true): PredictionDetail {
  checkWorkload(w);
  const { ctx, plan } = p;
  const context = w.inputTokens + w.outputTokens;
  // one sequence must fit, else refuse naming the smallest tp that would
  checkFits(ctx.model, ctx.target, ctx.engine, ctx.tp, ctx.weightDtype, ctx.kvDtype, context, 1);
  const mk = () => (breakdown ? newAccumulator(true) : null);
  if (mode === 'latency') {
    const pAcc = mk() ?? prefillAcc;
    const dAcc = mk() ?? decodeAcc;
    const r = runBatch(ctx, w.batch, w.inputTokens, w.outputTokens, pAcc, dAcc);
    return summarise(ctx, mode, w, w.batch, r, plan, pAcc, dAcc);
  }
  const limit = Math.min(maxBatchAtContext(plan, context), ctx.engine.maxSequences.value);
  let best = 1;
  let bestRate = -1;
  const tryBatch = (b: number) => {
    const r = runBatch(ctx, b, w.inputTokens, w.outputTokens, prefillAcc, decodeAcc);
    const rate = (b * w.outputTokens) / (r.ttftS + r.decodeS);
    if (rate > bestRate) {
      bestRate = rate;
      best = b;
    }
  };
  for (let b = 1; b < limit; b *= 2) tryBatch(b);
  tryBatch(limit);
  // refine between the neighbours of the best power of two
  const lo = Math.max(1, Math.floor(best / 2));
  const hi = Math.min(limit, best * 2);
  for (let i = 1; i < 8; i++) tryBatch(Math.round(lo + ((hi - lo) * i) / 8));
  const pAcc = mk() ?? prefillAcc;
  const dAcc = mk() ?? decodeAcc;
  const r = runBatch(ctx, best, w.inputTokens, w.outputTokens, pAcc, dAcc);
  return summarise(ctx, mode, w, best, r, plan, pAcc, dAcc);
}

/** One-shot prediction (builds the context each call; use createPredictor + evaluate in sweeps). */
export function predict(options: PredictOptions): PredictionDetail {
  const p = createPredictor({ ...options, weightDtype: options.workload.weightDtype as WeightDtype, kvDtype: options.workload.kvDtype as KvDtype });
  return evaluate(p, options.workload, options.mode ?? 'latency', options.breakdown ?? true);
}
