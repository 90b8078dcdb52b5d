import type { ModelSpec } from '../models/types.js';
import { UserError } from '../errors.js';
import type { EngineSpec } from './engines.js';
import type { PerfTarget } from './target.js';
import { checkTensorParallel, kvBytesPerTokenPerGpu, unquantizedBytes, weightsBytesPerGpu, type KvDtype, type WeightDtype } from './graph.js';

export interface MemoryPlan {
  /** device memory the engine may use on each GPU */
  usableBytes: number;
  weightsBytesPerGpu: number;
  /** activations of the largest step plus the engine's fixed reserve */
  reserveBytesPerGpu: number;
  /** what is left for the KV cache (negative when the weights do not fit) */
  kvCapacityBytesPerGpu: number;
  kvBytesPerTokenPerGpu: number;
  blockTokens: number;
  /** sliding-window span: the cache never holds more tokens per sequence */
  windowTokens: number;
}

/**
 * Peak activation bytes per GPU of the largest step the engine schedules (its token budget):
 * hidden states and residual, the QKV and gate/up outputs, and fp32 logits of the sampled tokens.
 */
export function activationBytesPerGpu(model: ModelSpec, engine: EngineSpec, tp: number, actBytes = 2): number {
  // engines without a step token budget (ideal, the WGSL runner) reserve nothing up front
  if (engine.ideal || engine.maxBatchedTokens.value >= Number.MAX_SAFE_INTEGER) return 0;
  const tokens = Math.min(engine.maxBatchedTokens.value, model.maxContextTokens || engine.maxBatchedTokens.value);
  const h = model.hiddenSize;
  const qkv = ((model.numHeads + 2 * Math.max(model.numKvHeads, tp)) * model.headDim) / tp;
  const ffn = model.moe ? (model.moe.expertsPerToken * model.moe.expertIntermediateSize) / tp : model.intermediateSize / tp;
  const perToken = (4 * h + qkv + 3 * ffn) * actBytes;
  const sampled = Math.min(tokens, engine.maxSequences.value);
  return tokens * perToken + sampled * model.vocabSize * 4;
}

export function memoryPlan(
  model: ModelSpec,
  target: PerfTarget,
  engine: EngineSpec,
  tp: number,
  weightDtype: WeightDtype,
  kvDtype: KvDtype,
): MemoryPlan {
  checkTensorParallel(model, tp);
  const usableBytes = target.memoryBytes * engine.memoryUtilization.value;
  const weights = weightsBytesPerGpu(model, weightDtype, tp);
  const reserve = engine.reserveBytes.value + activationBytesPerGpu(model, engine, tp, unquantizedBytes(weightDtype));
  return {
    usableBytes,
    weightsBytesPerGpu: weights,
    reserveBytesPerGpu: reserve,
    kvCapacityBytesPerGpu: usableBytes - weights - reserve,
    kvBytesPerTokenPerGpu: kvBytesPerTokenPerGpu(model, kvDtype, tp),
    blockTokens: engine.blockTokens.value,
    windowTokens: model.slidingWindowTokens ?? Infinity,
  };
}

/** KV bytes per GPU that `batch` sequences of `contextTokens` each hold (whole blocks). */
export function kvBytesForBatch(plan: MemoryPlan, batch: number, contextTokens: number): number {
  const blocks = Math.ceil(Math.min(contextTokens, plan.windowTokens) / plan.blockTokens);
  return batch * blocks * plan.blockTokens * plan.kvBytesPerTokenPerGpu;
}

/** The largest batch whose KV cache fits at `contextTokens` per sequence (0 when not even one does). */
export function maxBatchAtContext(plan: MemoryPlan, contextTokens: number): number {
  if (plan.kvCapacityBytesPerGpu <= 0) return 0;
  const perSeq = kvBytesForBatch(plan, 1, contextTokens);
  return Math.floor(plan.kvCapacityBytesPerGpu / perSeq);
}

/** Power-of-two TP degrees the target's scale-up domain allows, which split the model's heads. */
export function validTpDegrees(model: ModelSpec, target: PerfTarget): number[] {
  const maxGpus = target.interconnect ? target.interconnect.maxGpus : 1;
  const out: number[] = [];
  for (let tp = 1; tp <= maxGpus; tp *= 2) {
    try {
      checkTensorParallel(model, tp);
      out.push(tp);
    } catch {
      // heads do not split: skip this degree
    }
  }
  return out;
}

const GB = 1e9;

/**
 * Throws a one-line UserError when the weights plus one batch of `batch` sequences of
 * `contextTokens` do not fit on each GPU, naming the smallest tensor-parallel degree that would.
 */
export function checkFits(
  model: ModelSpec,
  target: PerfTarget,
  engine: EngineSpec,
  tp: number,
  weightDtype: WeightDtype,
  kvDtype: KvDtype,
  contextTokens: number,
  batch = 1,
): MemoryPlan {
  const plan = memoryPlan(model, target, engine, tp, weightDtype, kvDtype);
  const fitsWith = (p: MemoryPlan) => kvBytesForBatch(p, batch, contextTokens) <= p.kvCapacityBytesPerGpu;
  if (fitsWith(plan)) return plan;
  const need = plan.weightsBytesPerGpu + plan.reserveBytesPerGpu + kvBytesForBatch(plan, batch, contextTokens);
  const what = `${model.id} (${weightDtype}) with ${batch} x ${contextTokens} tokens of KV needs ${(need / GB).toFixed(1)} GB per GPU at tp ${tp}; ${target.id} offers ${(plan.usableBytes / GB).toFixed(1)} GB`;
  for (const candidate of validTpDegrees(model, target)) {
    if (candidate <= tp) continue;
    if (fitsWith(memoryPlan(model, target, engine, candidate, weightDtype, kvDtype))) {
      throw new UserError(`${what}: use --tp ${candidate} or more`);
    }
  }
  const maxTp = target.interconnect ? target.interconnect.maxGpus : 1;
  throw new UserError(`${what}: it does not fit even at tp ${maxTp}; use a smaller dtype or batch, or a larger-memory accelerator`);
}
