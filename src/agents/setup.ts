import { UserError } from '../errors.js';
import { getAccelerator } from '../hardware/index.js';
import { defaultKvDtype, kvBytesPerTokenTotal, gemmComputeDtype, type KvDtype, type WeightDtype } from '../perf/graph.js';
import { createCostContext, stepCost } from '../perf/cost.js';
import { getEngine } from '../perf/engines.js';
import { memoryPlan, validTpDegrees, kvBytesForBatch } from '../perf/memory.js';
import { peakFor, resolveTarget, type PerfTarget } from '../perf/target.js';
import type { ModelSpec } from '../models/types.js';
import { defaultPowerModel, profilePowerModel, type PowerDevice, type PowerModel } from '../energy/power.js';
import type { SimTarget } from './simulate.js';

export interface AgentTargetOptions {
  model: ModelSpec;
  gpu?: string;
  profile?: string;
  engine?: string;
  /** tensor-parallel degree; default the smallest that fits (see chooseTp) */
  tp?: number;
  weightDtype?: WeightDtype;
  kvDtype?: KvDtype;
  /** context the default tp must hold for one request, tokens */
  fitContextTokens?: number;
  power?: PowerModel;
}

export interface AgentTarget {
  sim: SimTarget;
  perf: PerfTarget;
  tp: number;
  tpSource: 'given' | 'smallest that fits';
  engine: string;
}

/** Default context a request must fit when choosing tp: long agent prompts reach ~8k tokens. */
export const DEFAULT_FIT_CONTEXT_TOKENS = 8192;

/**
 * The smallest tensor-parallel degree whose GPUs hold the weights, the engine's reserve and the KV
 * cache of one request of `contextTokens`.
 */
export function chooseTp(model: ModelSpec, target: PerfTarget, engineId: string, weightDtype: WeightDtype, kvDtype: KvDtype, contextTokens: number): number {
  const engine = getEngine(engineId);
  for (const tp of validTpDegrees(model, target)) {
    const plan = memoryPlan(model, target, engine, tp, weightDtype, kvDtype);
    if (kvBytesForBatch(plan, 1, contextTokens) <= plan.kvCapacityBytesPerGpu) return tp;
  }
  throw new UserError(`${model.id} does not fit on ${target.id} even at the largest tensor-parallel degree; try --weight-dtype fp8 or a larger-memory accelerator`);
}

/** Power figures from the catalog accelerator (with their sources), else from the target. */
function powerDevice(perf: PerfTarget, gpu: string | undefined): PowerDevice {
  if (gpu) {
    const spec = getAccelerator(gpu);
    return { id: spec.id, tdpW: spec.tdpW, idlePowerW: spec.idlePowerW };
  }
  if (perf.tdpW !== null && perf.idlePowerW !== null) {
    return { id: perf.id, tdpW: { value: perf.tdpW, source: 'target' }, idlePowerW: { value: perf.idlePowerW, source: 'target' } };
  }
  throw new UserError(
    `the profile of ${perf.id} has no power figures: recalibrate with --power where the GPU's power can be read, or add --gpu ID to take TDP and idle power from that catalog accelerator`,
  );
}

/** Joins model, accelerator (or profile), engine and tp into what the agent simulator costs. */
export function buildAgentTarget(options: AgentTargetOptions): AgentTarget {
  const perf = resolveTarget({ gpu: options.gpu, profile: options.profile });
  const engineId = options.engine ?? 'vllm';
  const engine = getEngine(engineId); // unknown engine ids fail here, with the list
  const weightDtype = options.weightDtype ?? 'bf16';
  const kvDtype = options.kvDtype ?? defaultKvDtype(weightDtype);
  const tp = options.tp ?? chooseTp(options.model, perf, engineId, weightDtype, kvDtype, options.fitContextTokens ?? DEFAULT_FIT_CONTEXT_TOKENS);
  const ctx = createCostContext({ model: options.model, target: perf, engine, tp, weightDtype, kvDtype });
  // power measured on the profiled GPU (calibrate --power) wins over catalog figures named by --gpu
  const measured = perf.measuredPower;
  const power = options.power ?? (measured ? profilePowerModel(measured, perf.id) : defaultPowerModel(powerDevice(perf, options.gpu)));
  return {
    sim: {
      stepCost: (batch) => stepCost(ctx, batch),
      power,
      peaks: { flopsPerS: peakFor(perf, gemmComputeDtype(weightDtype, perf.peakFlopsPerS)), memoryBytesPerS: perf.memoryBytesPerS },
      gpus: tp,
      kvBytesPerToken: kvBytesPerTokenTotal(options.model, kvDtype),
      maxPrefillTokensPerStep: engine.ideal ? undefined : engine.maxBatchedTokens.value,
    },
    perf,
    tp,
    tpSource: options.tp === undefined ? 'smallest that fits' : 'given',
    engine: engineId,
  };
}
