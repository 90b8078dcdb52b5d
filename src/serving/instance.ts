import { UserError } from '../errors.js';
import { buildAgentTarget, type AgentTargetOptions } from '../agents/setup.js';
import type { ModelSpec } from '../models/types.js';
import type { PowerModel, PowerPeaks } from '../energy/power.js';
import { createCostContext, type CostContext } from '../perf/cost.js';
import { getEngine } from '../perf/engines.js';
import { defaultKvDtype } from '../perf/graph.js';
import { memoryPlan, type MemoryPlan } from '../perf/memory.js';
import type { PerfTarget } from '../perf/target.js';

/** One serving instance: model on tp GPUs under an engine, with its KV block pool and power model. */
export interface ServeInstance {
  model: ModelSpec;
  target: PerfTarget;
  engineId: string;
  tp: number;
  tpSource: 'given' | 'smallest that fits';
  ctx: CostContext;
  plan: MemoryPlan;
  blockTokens: number;
  /** KV blocks of the pool (the same on every GPU of the TP group) */
  numBlocks: number;
  /** bytes of one block summed over the instance's GPUs */
  kvBytesPerBlock: number;
  /** the step token budget (max_num_batched_tokens) */
  maxBatchedTokens: number;
  /** most sequences running at once (max_num_seqs) */
  maxSeqs: number;
  power: PowerModel;
  peaks: PowerPeaks;
}

export interface InstanceOptions extends Pick<AgentTargetOptions, 'model' | 'gpu' | 'profile' | 'engine' | 'tp' | 'weightDtype' | 'kvDtype'> {
  maxBatchedTokens?: number;
  maxSeqs?: number;
}

/**
 * Joins model, accelerator, engine and tp. The KV pool is sized as vLLM sizes it: on each GPU,
 * gpu_memory_utilization x memory - weights - (activations of the largest step + fixed reserve),
 * divided into blocks of block_size tokens (src/perf/memory.ts).
 */
export function buildInstance(options: InstanceOptions): ServeInstance {
  const engineId = options.engine ?? 'vllm';
  const engine = getEngine(engineId);
  const weightDtype = options.weightDtype ?? 'bf16';
  const kvDtype = options.kvDtype ?? defaultKvDtype(weightDtype);
  // the agent setup resolves the target, the default tp and the power model the same way `agent` does
  const agent = buildAgentTarget({ model: options.model, gpu: options.gpu, profile: options.profile, engine: engineId, tp: options.tp, weightDtype, kvDtype });
  const tp = agent.tp;
  const ctx = createCostContext({ model: options.model, target: agent.perf, engine, tp, weightDtype, kvDtype });
  const plan = memoryPlan(options.model, agent.perf, engine, tp, weightDtype, kvDtype);
  const blockTokens = plan.blockTokens;
  const blockBytesPerGpu = blockTokens * plan.kvBytesPerTokenPerGpu;
  const numBlocks = Math.floor(plan.kvCapacityBytesPerGpu / blockBytesPerGpu);
  if (!(numBlocks >= 1)) {
    throw new UserError(
      `${options.model.id} leaves no room for the KV cache on ${agent.perf.id} at tp ${tp} (weights ${(plan.weightsBytesPerGpu / 1e9).toFixed(1)} GB of ${(plan.usableBytes / 1e9).toFixed(1)} GB usable per GPU): use a larger --tp`,
    );
  }
  const maxBatchedTokens = options.maxBatchedTokens ?? engine.maxBatchedTokens.value;
  const maxSeqs = options.maxSeqs ?? engine.maxSequences.value;
  if (!(maxBatchedTokens >= 1) || !(maxSeqs >= 1)) throw new UserError('the step token budget and the sequence limit must be at least 1');
  return {
    model: options.model,
    target: agent.perf,
    engineId,
    tp,
    tpSource: agent.tpSource,
    ctx,
    plan,
    blockTokens,
    numBlocks,
    kvBytesPerBlock: blockBytesPerGpu * tp,
    maxBatchedTokens,
    maxSeqs,
    power: agent.sim.power,
    peaks: agent.sim.peaks,
  };
}
