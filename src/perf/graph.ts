import type { ModelSpec } from '../models/types.js';
import { DTYPE_BYTES, type Dtype } from '../hardware/types.js';
import { UserError } from '../errors.js';

/**
 * The operator graph of one decoder layer and of the per-step head and tail, as the vLLM-style
 * kernels run it: fused add+RMSNorm, fused QKV (+bias), rotary (+ per-head q/k norm), KV-cache
 * write, flash-style attention (prefill, causal) and paged attention (decode), output projection,
 * all-reduce, gated MLP (gate+up fused, SiLU*mul, down) or routed experts, all-reduce; then final
 * norm, LM head on the sampled tokens only, sampling. Sizes here are per GPU of a TP group.
 */

/** Weight formats a checkpoint can be served in (fp32: local runners such as the WGSL mini model). */
export const WEIGHT_DTYPES = ['bf16', 'fp16', 'fp8', 'int8', 'int4', 'fp32'] as const;
export type WeightDtype = (typeof WEIGHT_DTYPES)[number];
export const KV_DTYPES = ['bf16', 'fp16', 'fp8', 'int8', 'fp32'] as const;
export type KvDtype = (typeof KV_DTYPES)[number];

/** The KV cache is kept in the activation format: fp16/fp32 with those weights, else bf16. */
export function defaultKvDtype(weightDtype: WeightDtype): KvDtype {
  return weightDtype === 'fp16' || weightDtype === 'fp32' ? weightDtype : 'bf16';
}

/** Per-GPU dimensions of one layer under tensor parallelism `tp`. */
export interface LayerGeometry {
  tp: number;
  hidden: number;
  headDim: number;
  /** query heads on this GPU */
  qHeads: number;
  /** KV heads stored on this GPU (replicated when tp exceeds the KV heads) */
  kvHeads: number;
  /** q and kv projection widths on this GPU */
  qDim: number;
  kvDim: number;
  /** dense MLP width on this GPU (0 for MoE layers) */
  intermediate: number;
  moe: null | {
    experts: number;
    topK: number;
    /** one expert's FFN width on this GPU */
    expertIntermediate: number;
    sharedIntermediate: number;
  };
  vocab: number;
  vocabPerGpu: number;
  layers: number;
  qkvBias: boolean;
  qkNorm: boolean;
  weightBytes: number;
  /** embeddings, LM head, norms and router stay in 16 bits in quantized checkpoints (AWQ, GPTQ, FP8 skip them) */
  headBytes: number;
  /** activations: 16-bit, or 32-bit in an fp32 model */
  actBytes: number;
  kvBytes: number;
}

/** Bytes of the weights a quantized checkpoint leaves unquantized, and of activations. */
export function unquantizedBytes(weightDtype: WeightDtype): number {
  return weightDtype === 'fp32' ? 4 : 2;
}

function checkModel(model: ModelSpec): void {
  const dims: [string, number][] = [
    ['hiddenSize', model.hiddenSize],
    ['numLayers', model.numLayers],
    ['numHeads', model.numHeads],
    ['numKvHeads', model.numKvHeads],
    ['headDim', model.headDim],
    ['vocabSize', model.vocabSize],
  ];
  for (const [name, v] of dims) {
    if (!Number.isInteger(v) || v <= 0) throw new UserError(`model ${model.id}: ${name} must be a whole number > 0, got ${v}`);
  }
  if (!model.moe && (!Number.isInteger(model.intermediateSize) || model.intermediateSize <= 0)) {
    throw new UserError(`model ${model.id}: intermediateSize must be a whole number > 0`);
  }
  if (model.numHeads % model.numKvHeads !== 0) {
    throw new UserError(`model ${model.id}: numHeads ${model.numHeads} is not a multiple of numKvHeads ${model.numKvHeads}`);
  }
}

/** Throws unless the model's heads split evenly over `tp` GPUs (the rule vLLM and TRT-LLM enforce). */
export function checkTensorParallel(model: ModelSpec, tp: number): void {
  if (!Number.isInteger(tp) || tp <= 0) throw new UserError(`--tp must be a whole number > 0, got ${tp}`);
  if (model.numHeads % tp !== 0) {
    throw new UserError(`${model.id} has ${model.numHeads} attention heads, which do not split over tp ${tp}`);
  }
  if (tp > model.numKvHeads && tp % model.numKvHeads !== 0) {
    throw new UserError(`${model.id} has ${model.numKvHeads} KV heads, which cannot be replicated evenly over tp ${tp}`);
  }
}

export function layerGeometry(model: ModelSpec, tp: number, weightDtype: WeightDtype, kvDtype: KvDtype): LayerGeometry {
  checkModel(model);
  checkTensorParallel(model, tp);
  const qHeads = model.numHeads / tp;
  const kvHeads = Math.max(1, model.numKvHeads / tp);
  const moe = model.moe;
  return {
    tp,
    hidden: model.hiddenSize,
    headDim: model.headDim,
    qHeads,
    kvHeads,
    qDim: qHeads * model.headDim,
    kvDim: kvHeads * model.headDim,
    intermediate: moe ? 0 : model.intermediateSize / tp,
    moe: moe
      ? {
          experts: moe.numExperts,
          topK: moe.expertsPerToken,
          expertIntermediate: moe.expertIntermediateSize / tp,
          sharedIntermediate: moe.sharedExpertIntermediateSize / tp,
        }
      : null,
    vocab: model.vocabSize,
    vocabPerGpu: model.vocabSize / tp,
    layers: model.numLayers,
    qkvBias: model.qkvBias,
    qkNorm: model.qkNorm,
    weightBytes: DTYPE_BYTES[weightDtype],
    headBytes: unquantizedBytes(weightDtype),
    actBytes: unquantizedBytes(weightDtype),
    kvBytes: DTYPE_BYTES[kvDtype],
  };
}

/** Parameter counts by part, whole model (all GPUs): the basis of weight bytes and FLOPs. */
export interface ParameterBreakdown {
  /** per layer: attention projections (+bias), norms, dense MLP, router, all experts, shared expert */
  attention: number;
  norms: number;
  mlp: number;
  router: number;
  experts: number;
  expertActive: number;
  shared: number;
  embedding: number;
  lmHead: number;
  finalNorm: number;
  total: number;
  /** parameters one token multiplies by (embedding lookup excluded) */
  active: number;
}

export function parameterBreakdown(model: ModelSpec): ParameterBreakdown {
  const h = model.hiddenSize;
  const q = model.numHeads * model.headDim;
  const kv = model.numKvHeads * model.headDim;
  const attention = h * (q + 2 * kv) + q * h + (model.qkvBias ? q + 2 * kv : 0);
  const norms = 2 * h + (model.qkNorm ? 2 * model.headDim : 0);
  const moe = model.moe;
  const mlp = moe ? 0 : 3 * h * model.intermediateSize;
  const router = moe ? h * moe.numExperts : 0;
  const experts = moe ? moe.numExperts * 3 * h * moe.expertIntermediateSize : 0;
  const expertActive = moe ? moe.expertsPerToken * 3 * h * moe.expertIntermediateSize : 0;
  // a shared expert has its own sigmoid gate (Qwen2-MoE)
  const shared = moe && moe.sharedExpertIntermediateSize > 0 ? 3 * h * moe.sharedExpertIntermediateSize + h : 0;
  const L = model.numLayers;
  const embedding = model.vocabSize * h;
  const lmHead = model.tiedEmbeddings ? 0 : model.vocabSize * h;
  const perLayer = attention + norms + mlp + router + experts + shared;
  const perLayerActive = attention + norms + mlp + router + expertActive + shared;
  return {
    attention,
    norms,
    mlp,
    router,
    experts,
    expertActive,
    shared,
    embedding,
    lmHead,
    finalNorm: h,
    total: L * perLayer + embedding + lmHead + h,
    active: L * perLayerActive + model.vocabSize * h + h,
  };
}

/** Weight bytes held by each GPU of a TP group: layers and vocabulary sharded, norms replicated. */
export function weightsBytesPerGpu(model: ModelSpec, weightDtype: WeightDtype, tp: number): number {
  checkTensorParallel(model, tp);
  const p = parameterBreakdown(model);
  const w = DTYPE_BYTES[weightDtype];
  const kv = model.numKvHeads * model.headDim;
  // KV projections are replicated, not split, when tp exceeds the KV heads
  const kvReplication = tp > model.numKvHeads ? tp / model.numKvHeads : 1;
  const kvProj = 2 * model.hiddenSize * kv * (kvReplication - 1);
  const layerSharded = (p.attention + kvProj + p.mlp + p.experts + p.shared) / tp;
  const u = unquantizedBytes(weightDtype);
  const layer = layerSharded * w + (p.norms + p.router) * u;
  const head = ((p.embedding + p.lmHead) / tp) * u + p.finalNorm * u;
  return model.numLayers * layer + head;
}

/** KV-cache bytes per token, whole model (all GPUs together, without replication). */
export function kvBytesPerTokenTotal(model: ModelSpec, kvDtype: KvDtype): number {
  return 2 * model.numLayers * model.numKvHeads * model.headDim * DTYPE_BYTES[kvDtype];
}

/** KV-cache bytes per token on each GPU of a TP group (KV heads replicated when tp exceeds them). */
export function kvBytesPerTokenPerGpu(model: ModelSpec, kvDtype: KvDtype, tp: number): number {
  return 2 * model.numLayers * Math.max(1, model.numKvHeads / tp) * model.headDim * DTYPE_BYTES[kvDtype];
}

/** Expected number of distinct experts that `tokens` tokens, each routed to k of E, touch (uniform routing). */
export function expectedExpertsTouched(experts: number, topK: number, tokens: number): number {
  if (tokens <= 0) return 0;
  return experts * (1 - Math.pow(1 - topK / experts, tokens));
}

/** Forward FLOPs of one token at context length 0 on the whole model: 2 x active params. */
export function flopsPerTokenShort(model: ModelSpec): number {
  return 2 * parameterBreakdown(model).active;
}

export function isWeightDtype(x: string): x is WeightDtype {
  return (WEIGHT_DTYPES as readonly string[]).includes(x);
}

export function isKvDtype(x: string): x is KvDtype {
  return (KV_DTYPES as readonly string[]).includes(x);
}

/** Compute format of the weight GEMMs: W8A8 where the target has the unit, else weights widened to 16 bits. */
export function gemmComputeDtype(weightDtype: WeightDtype, peaks: Partial<Record<Dtype, number>>): Dtype {
  if (weightDtype === 'fp8' && peaks.fp8) return 'fp8';
  if (weightDtype === 'int8' && peaks.int8) return 'int8';
  if (weightDtype === 'fp16') return 'fp16';
  if (weightDtype === 'fp32') return 'fp32';
  return 'bf16';
}
