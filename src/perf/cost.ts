import type { ModelSpec } from '../models/types.js';
import { UserError } from '../errors.js';
import type { Bound, OpCost, Phase, StepBatch, StepCost } from './types.js';
import { getEngine, type EngineId, type EngineSpec } from './engines.js';
import { peakFor, type ClassCurve, type EffCurve, type PerfTarget } from './target.js';
import { causalPairs, type CausalTile } from '../profile/causal.js';
import {
  expectedExpertsTouched,
  gemmComputeDtype,
  isKvDtype,
  defaultKvDtype,
  isWeightDtype,
  KV_DTYPES,
  WEIGHT_DTYPES,
  layerGeometry,
  type KvDtype,
  type LayerGeometry,
  type WeightDtype,
} from './graph.js';

export interface CostContextOptions {
  model: ModelSpec;
  target: PerfTarget;
  engine: EngineSpec | EngineId;
  tp?: number;
  weightDtype?: WeightDtype;
  kvDtype?: KvDtype;
}

// Kernel classes; each has [compute rate, compute half-work, memory rate, memory half-work].
const K_GEMM = 0;
const K_GEMM_SKINNY = 1;
const K_HEAD = 2; // 16-bit GEMMs on weights that stay unquantized (LM head, router)
const K_HEAD_SKINNY = 3;
const K_ATTN_P = 4;
const K_ATTN_D = 5;
const K_ELEM = 6;
const K_NORM = 7;
const K_SAMPLE = 8;
const KINDS = 9;
/** GEMMs with fewer rows than this use the target's skinny-GEMM curve where it has one */
const SKINNY_ROWS = 64;

/** Everything the hot path needs, computed once per (model, target, engine, tp, dtypes). */
export interface CostContext {
  model: ModelSpec;
  target: PerfTarget;
  engine: EngineSpec;
  tp: number;
  weightDtype: WeightDtype;
  kvDtype: KvDtype;
  geom: LayerGeometry;
  /** KINDS x [computeRate FLOP/s, computeHalfFlops, memoryRate B/s, memoryHalfBytes] */
  rates: Float64Array;
  launchS: number;
  issueS: number;
  /** extra time of one eager all-reduce from rank skew: eagerSyncS x log2(tp) */
  syncS: number;
  graphMaxBatch: number;
  stepFixedS: number;
  perSequenceS: number;
  commLatencyS: number;
  commBytesPerS: number;
  customAllReduceMaxBytes: number;
  /** sliding-window span (Infinity for full attention) */
  windowTokens: number;
  /** tile of the target's prefill attention kernel, null: the exact causal pairs are costed */
  causalTile: CausalTile | null;
}

export function createCostContext(options: CostContextOptions): CostContext {
  const { model, target } = options;
  const engine = typeof options.engine === 'string' ? getEngine(options.engine) : options.engine;
  const tp = options.tp ?? 1;
  const weightDtype = options.weightDtype ?? 'bf16';
  const kvDtype = options.kvDtype ?? defaultKvDtype(weightDtype);
  if (!isWeightDtype(weightDtype)) throw new UserError(`unknown weight dtype '${weightDtype}' (${WEIGHT_DTYPES.join(', ')})`);
  if (!isKvDtype(kvDtype)) throw new UserError(`unknown KV dtype '${kvDtype}' (${KV_DTYPES.join(', ')})`);
  const geom = layerGeometry(model, tp, weightDtype, kvDtype);
  if (tp > 1) {
    if (!target.interconnect) {
      throw new UserError(`${target.id} has no GPU interconnect in its profile: tensor parallelism needs tp 1`);
    }
    if (tp > target.interconnect.maxGpus) {
      throw new UserError(`tp ${tp} exceeds the ${target.interconnect.maxGpus} GPUs of one ${target.interconnect.kind} domain of ${target.id}`);
    }
  }
  const ideal = engine.ideal;
  const rates = new Float64Array(KINDS * 4);
  const bw = target.memoryBytesPerS;
  // a curve measured as a fixed time ramps up over the work that time is worth at the rate it gets here
  const half = (curve: EffCurve, rate: number) => (curve.fixedS !== undefined ? curve.fixedS * rate : curve.halfWork);
  const set = (kind: number, peak: number, compute: EffCurve, computeFactor: number, memory: EffCurve, memoryFactor: number) => {
    const o = kind * 4;
    rates[o] = ideal ? peak : peak * compute.effMax * computeFactor;
    rates[o + 1] = ideal ? 0 : half(compute, rates[o]);
    rates[o + 2] = ideal ? bw : bw * memory.effMax * memoryFactor;
    rates[o + 3] = ideal ? 0 : half(memory, rates[o + 2]);
  };
  /**
   * A fitted class: its primary curve bounds its roof, the other roof takes the class's secondary
   * curve where both were fitted, else a fallback: the memory curve, or on the compute side
   * `computeEffMax` with no ramp (a class fitted in bytes has no measured compute ramp-up).
   */
  const setClass = (kind: number, peak: number, cls: ClassCurve, computeFactor: number, memoryFactor: number, computeEffMax: number) => {
    const other = cls.secondary?.curve;
    if (cls.unit === 'flops') set(kind, peak, cls.curve, computeFactor, other ?? target.memory, memoryFactor);
    else set(kind, peak, other ?? { effMax: computeEffMax, halfWork: 0 }, computeFactor, cls.curve, memoryFactor);
  };
  const gf = engine.gemmFactor.value;
  const mf = engine.memoryFactor.value;
  const af = engine.attentionFactor.value;
  const wDt = gemmComputeDtype(weightDtype, target.peakFlopsPerS);
  // unquantized GEMMs (LM head, router) and attention run in the activation format
  const hDt = weightDtype === 'fp16' || weightDtype === 'fp32' ? weightDtype : 'bf16';
  const gemmCurve = (dt: typeof wDt) => target.gemm[dt] ?? target.gemm.default;
  // GEMMs with few rows take the skinny-GEMM class where the target has one, else the GEMM curve
  const setSkinny = (kind: number, dt: typeof wDt) => {
    const skinny = target.gemmSkinny;
    if (skinny) setClass(kind, peakFor(target, dt), skinny, gf, mf, gemmCurve(dt).effMax);
    else set(kind, peakFor(target, dt), gemmCurve(dt), gf, target.memory, mf);
  };
  set(K_GEMM, peakFor(target, wDt), gemmCurve(wDt), gf, target.memory, mf);
  setSkinny(K_GEMM_SKINNY, wDt);
  set(K_HEAD, peakFor(target, hDt), gemmCurve(hDt), gf, target.memory, mf);
  setSkinny(K_HEAD_SKINNY, hDt);
  for (const [kind, cls] of [
    [K_ATTN_P, target.attentionPrefill],
    [K_ATTN_D, target.attentionDecode],
  ] as const) {
    // a class fitted in FLOPs bounds the compute side; one fitted in bytes the memory side (a
    // streaming class such as decode attention has no GEMM ramp-up on its compute side)
    setClass(kind, peakFor(target, hDt), cls, af, cls.unit === 'flops' ? mf : mf * af, gemmCurve(hDt).effMax);
  }
  // element-wise kernels and norms run on the vector units; where the profile measured them, their
  // own curves apply (launch-bound small kernels), else they are costed as streams
  const vectorPeak = target.peakFlopsPerS.fp32 ?? peakFor(target, hDt);
  const setVector = (kind: number, cls: ClassCurve | null) =>
    cls ? setClass(kind, vectorPeak, cls, 1, mf, 1) : set(kind, vectorPeak, { effMax: 1, halfWork: 0 }, 1, target.memory, mf);
  setVector(K_ELEM, target.elementwise);
  setVector(K_NORM, target.norm ?? target.elementwise);
  setVector(K_SAMPLE, target.sampling ?? target.elementwise);
  return {
    model,
    target,
    engine,
    tp,
    weightDtype,
    kvDtype,
    geom,
    rates,
    launchS: ideal ? 0 : target.kernelLaunchS,
    issueS: engine.eagerIssueS.value,
    syncS: engine.eagerSyncS.value * Math.log2(tp),
    graphMaxBatch: engine.graphMaxBatch.value,
    stepFixedS: engine.stepFixedS.value + engine.stepPerWorkerS.value * tp,
    perSequenceS: engine.stepPerSequenceS.value,
    commLatencyS: target.interconnect?.latencyS ?? 0,
    commBytesPerS: target.interconnect?.bytesPerS ?? Infinity,
    customAllReduceMaxBytes: engine.customAllReduceMaxBytes.value,
    windowTokens: model.slidingWindowTokens ?? Infinity,
    causalTile: ideal ? null : (target.attentionPrefill.causalTile ?? null),
  };
}

/** The quantities of a step the operator costs depend on (all sequences summed). */
export interface StepAggregate {
  /** new tokens in the step (prefill tokens + one per decoding sequence) */
  tokens: number;
  prefillSeqs: number;
  prefillTokens: number;
  /** sum over prefill sequences of the query-key pairs attention computes (prefillPairs) */
  prefillPairs: number;
  /** sum over prefill sequences of p + t: KV entries read by prefill attention */
  prefillKvTokens: number;
  decodeSeqs: number;
  /** sum over decoding sequences of p + 1: KV entries read by decode attention */
  decodeKvTokens: number;
  /** sequences whose next token is sampled */
  sampled: number;
}

/**
 * Query-key pairs the prefill attention kernel computes for `t` new tokens after `p` cached ones,
 * each attending to at most `window` keys: exactly those under the causal mask, or with the
 * target's kernel tile (`causalTile`), the whole tiles the diagonal crosses (src/profile/causal.ts).
 */
export const prefillPairs = causalPairs;

/**
 * Sums a batch into the quantities the operators depend on; `window` caps attention spans (sliding
 * window), `tile` is the prefill attention kernel's tile (CostContext.causalTile).
 */
export function aggregateBatch(batch: StepBatch, window = Infinity, tile: CausalTile | null = null): StepAggregate {
  let prefillTokens = 0;
  let pairs = 0;
  let prefillKvTokens = 0;
  let decodeKvTokens = 0;
  for (const s of batch.prefill) {
    const t = s.tokens;
    const p = s.pastTokens;
    if (!(t > 0) || !(p >= 0)) throw new UserError(`prefill needs tokens > 0 and pastTokens >= 0, got ${t} and ${p}`);
    prefillTokens += t;
    pairs += prefillPairs(t, p, window, tile);
    prefillKvTokens += Math.min(p + t, window + t);
  }
  for (const s of batch.decode) {
    if (!(s.pastTokens >= 0)) throw new UserError(`decode needs pastTokens >= 0, got ${s.pastTokens}`);
    decodeKvTokens += Math.min(s.pastTokens + 1, window);
  }
  const decodeSeqs = batch.decode.length;
  return {
    tokens: prefillTokens + decodeSeqs,
    prefillSeqs: batch.prefill.length,
    prefillTokens,
    prefillPairs: pairs,
    prefillKvTokens,
    decodeSeqs,
    decodeKvTokens,
    sampled: batch.prefill.length + decodeSeqs,
  };
}

/** Mutable totals of one step; reused so the hot path does not allocate. */
export type StepAccumulator = Omit<StepCost, 'ops'> & { ops: OpCost[] | null };

export function newAccumulator(breakdown: boolean): StepAccumulator {
  return { seconds: 0, computeS: 0, memoryS: 0, overheadS: 0, communicationS: 0, flops: 0, bytes: 0, ops: breakdown ? [] : null };
}

function reset(acc: StepAccumulator): void {
  acc.seconds = acc.computeS = acc.memoryS = acc.overheadS = acc.communicationS = acc.flops = acc.bytes = 0;
  if (acc.ops) acc.ops.length = 0;
}

function addOp(
  ctx: CostContext,
  acc: StepAccumulator,
  kind: number,
  eager: boolean,
  op: string,
  phase: Phase,
  flops: number,
  bytes: number,
  count: number,
): void {
  const r = ctx.rates;
  const o = kind * 4;
  const tC = flops > 0 ? (flops + r[o + 1]) / r[o] : 0;
  const tM = bytes > 0 ? (bytes + r[o + 3]) / r[o + 2] : 0;
  const gpu = (tC > tM ? tC : tM) + ctx.launchS;
  const issue = eager ? ctx.issueS : 0;
  let t: number;
  let bound: Bound;
  if (issue > gpu) {
    t = issue;
    bound = 'overhead';
    acc.overheadS += t * count;
  } else {
    t = gpu;
    if (tC >= tM) {
      bound = 'compute';
      acc.computeS += tC * count;
    } else {
      bound = 'memory';
      acc.memoryS += tM * count;
    }
    acc.overheadS += ctx.launchS * count;
  }
  acc.seconds += t * count;
  acc.flops += flops * count;
  acc.bytes += bytes * count;
  if (acc.ops) acc.ops.push({ op, phase, seconds: t * count, bound, flops: flops * count, bytes: bytes * count });
}

/**
 * Ring collective: all-reduce (steps 2) moves 2(n-1)/n of the data in 2(n-1) latency steps,
 * all-gather (steps 1) half of that. Small all-reduces on engines with a custom kernel take the same
 * bytes in two synchronisation steps (reduce-scatter and all-gather through peer memory).
 */
function addComm(ctx: CostContext, acc: StepAccumulator, eager: boolean, op: string, phase: Phase, bytes: number, steps: number, count: number): void {
  const n = ctx.tp;
  if (n <= 1) return;
  const transfer = ((steps * (n - 1)) / n) * bytes / ctx.commBytesPerS;
  const syncSteps = steps === 2 && bytes <= ctx.customAllReduceMaxBytes ? 2 : steps * (n - 1);
  const gpu = syncSteps * ctx.commLatencyS + transfer + ctx.launchS;
  let t = eager && ctx.issueS > gpu ? ctx.issueS : gpu;
  if (eager) t += ctx.syncS;
  acc.seconds += t * count;
  acc.communicationS += t * count;
  if (acc.ops) acc.ops.push({ op, phase, seconds: t * count, bound: 'communication', flops: 0, bytes: bytes * count });
}

/**
 * Costs one step described by its aggregate into `acc`. `skipDecodeAttention` leaves out the
 * decode attention kernel (predict sums it exactly over the context separately).
 */
export function costAggregate(ctx: CostContext, a: StepAggregate, acc: StepAccumulator, skipDecodeAttention = false): void {
  reset(acc);
  const g = ctx.geom;
  const T = a.tokens;
  if (T <= 0) return;
  const L = g.layers;
  const h = g.hidden;
  const act = g.actBytes;
  const w = g.weightBytes;
  const phase: Phase = a.prefillSeqs > 0 ? 'prefill' : 'decode';
  const eager = a.prefillSeqs > 0 || a.decodeSeqs > ctx.graphMaxBatch;
  const gemm = T < SKINNY_ROWS ? K_GEMM_SKINNY : K_GEMM;
  const qkv = g.qDim + 2 * g.kvDim;

  // --- decoder layers (identical, costed once and counted L times)
  addOp(ctx, acc, K_NORM, eager, 'input_norm', phase, 5 * T * h, 4 * T * h * act + g.headBytes * h, L);
  addOp(ctx, acc, gemm, eager, 'qkv_proj', phase, 2 * T * h * qkv, h * qkv * w + T * (h + qkv) * act + (g.qkvBias ? g.headBytes * qkv : 0), L);
  const ropeWidth = g.qDim + g.kvDim;
  const qkNormPass = g.qkNorm ? 2 : 1;
  addOp(ctx, acc, K_ELEM, eager, g.qkNorm ? 'qk_norm_rotary' : 'rotary', phase, 6 * qkNormPass * T * ropeWidth, 2 * qkNormPass * T * ropeWidth * act, L);
  addOp(ctx, acc, K_ELEM, eager, 'kv_cache_write', phase, 0, T * 2 * g.kvDim * (act + g.kvBytes), L);
  const attnFlopsPerPair = 4 * g.headDim * g.qHeads;
  const kvEntryBytes = 2 * g.kvDim * g.kvBytes;
  if (a.prefillSeqs > 0) {
    addOp(ctx, acc, K_ATTN_P, eager, 'attention_prefill', 'prefill', attnFlopsPerPair * a.prefillPairs,
      a.prefillKvTokens * kvEntryBytes + 2 * a.prefillTokens * g.qDim * act, L);
  }
  if (a.decodeSeqs > 0 && !skipDecodeAttention) {
    addOp(ctx, acc, K_ATTN_D, eager, 'attention_decode', 'decode', attnFlopsPerPair * a.decodeKvTokens,
      a.decodeKvTokens * kvEntryBytes + 2 * a.decodeSeqs * g.qDim * act, L);
  }
  addOp(ctx, acc, gemm, eager, 'o_proj', phase, 2 * T * g.qDim * h, g.qDim * h * w + T * (g.qDim + h) * act, L);
  addComm(ctx, acc, eager, 'all_reduce', phase, T * h * act, 2, 2 * L);
  addOp(ctx, acc, K_NORM, eager, 'post_attention_norm', phase, 5 * T * h, 4 * T * h * act + g.headBytes * h, L);
  const moe = g.moe;
  if (!moe) {
    const I = g.intermediate;
    addOp(ctx, acc, gemm, eager, 'gate_up_proj', phase, 4 * T * h * I, 2 * h * I * w + T * (h + 2 * I) * act, L);
    addOp(ctx, acc, K_ELEM, eager, 'silu_mul', phase, 4 * T * I, 3 * T * I * act, L);
    addOp(ctx, acc, gemm, eager, 'down_proj', phase, 2 * T * I * h, I * h * w + T * (I + h) * act, L);
  } else {
    const E = moe.experts;
    const k = moe.topK;
    const Ie = moe.expertIntermediate;
    const touched = expectedExpertsTouched(E, k, T);
    const rows = (T * k) / touched;
    const expertGemm = rows < SKINNY_ROWS ? K_GEMM_SKINNY : K_GEMM;
    addOp(ctx, acc, T < SKINNY_ROWS ? K_HEAD_SKINNY : K_HEAD, eager, 'router', phase, 2 * T * h * E, g.headBytes * h * E + T * h * act + 4 * T * E, L);
    addOp(ctx, acc, expertGemm, eager, 'experts_gate_up', phase, 4 * T * k * h * Ie, touched * 2 * h * Ie * w + T * (h + 2 * k * Ie) * act, L);
    addOp(ctx, acc, K_ELEM, eager, 'experts_silu_mul', phase, 4 * T * k * Ie, 3 * T * k * Ie * act, L);
    addOp(ctx, acc, expertGemm, eager, 'experts_down', phase, 2 * T * k * Ie * h, touched * Ie * h * w + T * k * (Ie + h) * act, L);
    const Is = moe.sharedIntermediate;
    if (Is > 0) {
      addOp(ctx, acc, gemm, eager, 'shared_expert', phase, 6 * T * h * Is + 2 * T * h, (3 * h * Is + h) * w + T * (2 * h + 3 * Is) * act, L);
    }
  }

  // --- once per step: embedding, final norm, LM head on the sampled tokens, sampling
  addOp(ctx, acc, K_ELEM, eager, 'embedding', phase, 0, T * h * (g.headBytes + act), 1);
  // fused with the last layer's residual add, as input_norm: reads x and the delta, writes both
  addOp(ctx, acc, K_NORM, eager, 'final_norm', phase, 5 * T * h, 4 * T * h * act + g.headBytes * h, 1);
  const S = a.sampled;
  if (S > 0) {
    const V = g.vocabPerGpu;
    addOp(ctx, acc, S < SKINNY_ROWS ? K_HEAD_SKINNY : K_HEAD, eager, 'lm_head', phase, 2 * S * h * V, h * V * g.headBytes + S * h * act + 4 * S * V, 1);
    addComm(ctx, acc, eager, 'logits_all_gather', phase, 4 * S * g.vocab, 1, 1);
    addOp(ctx, acc, K_SAMPLE, eager, 'sampling', phase, 5 * S * g.vocab, 8 * S * g.vocab, 1);
  }
  const host = ctx.stepFixedS + ctx.perSequenceS * (a.prefillSeqs + a.decodeSeqs);
  if (host > 0) {
    acc.seconds += host;
    acc.overheadS += host;
    if (acc.ops) acc.ops.push({ op: 'engine_step', phase, seconds: host, bound: 'overhead', flops: 0, bytes: 0 });
  }
}

export interface StepCostOptions {
  /** fill `ops` with the per-operator list (summed over layers); off by default for speed */
  breakdown?: boolean;
}

const scratch = newAccumulator(false);

/** Cost of one engine step on one GPU of the instance (all GPUs of a TP group run in lockstep). */
export function stepCost(ctx: CostContext, batch: StepBatch, options: StepCostOptions = {}): StepCost {
  const acc = options.breakdown ? newAccumulator(true) : scratch;
  costAggregate(ctx, aggregateBatch(batch, ctx.windowTokens, ctx.causalTile), acc);
  return {
    seconds: acc.seconds,
    computeS: acc.computeS,
    memoryS: acc.memoryS,
    overheadS: acc.overheadS,
    communicationS: acc.communicationS,
    flops: acc.flops,
    bytes: acc.bytes,
    ops: acc.ops ? acc.ops.slice() : [],
  };
}

/**
 * Decode attention of `seqs` sequences as affine functions of the attended context x (= past+1),
 * per layer: time(x) = max(issue, launch + max(cA*x + cB, mA*x + mB)). predict() sums it exactly.
 */
export function decodeAttentionLines(ctx: CostContext, seqs: number): { cA: number; cB: number; mA: number; mB: number; floor: number } {
  const g = ctx.geom;
  const r = ctx.rates;
  const o = K_ATTN_D * 4;
  const eager = seqs > ctx.graphMaxBatch;
  return {
    cA: (4 * g.headDim * g.qHeads * seqs) / r[o],
    cB: r[o + 1] / r[o] + ctx.launchS,
    mA: (seqs * 2 * g.kvDim * g.kvBytes) / r[o + 2],
    mB: (2 * seqs * g.qDim * g.actBytes + r[o + 3]) / r[o + 2] + ctx.launchS,
    floor: eager ? ctx.issueS : 0,
  };
}
