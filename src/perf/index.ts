/** The cost model: operator graph, roofline step cost, memory plan and predict(). No WebGPU here. */
export type { Bound, OpCost, Phase, Prediction, StepBatch, StepCost, Workload } from './types.js';
export { createCostContext, stepCost, costAggregate, aggregateBatch, newAccumulator } from './cost.js';
export type { CostContext, CostContextOptions, StepAggregate, StepAccumulator, StepCostOptions } from './cost.js';
export { getEngine, listEngines, ENGINE_IDS } from './engines.js';
export type { EngineId, EngineSpec, EngineFigure } from './engines.js';
export { resolveTarget, targetFromAccelerator, targetFromProfile, peakFor } from './target.js';
export type { PerfTarget, EffCurve, ClassCurve, PerfInterconnect, ResolveTargetOptions } from './target.js';
export {
  WEIGHT_DTYPES,
  KV_DTYPES,
  layerGeometry,
  parameterBreakdown,
  weightsBytesPerGpu,
  kvBytesPerTokenTotal,
  kvBytesPerTokenPerGpu,
  expectedExpertsTouched,
  flopsPerTokenShort,
  checkTensorParallel,
} from './graph.js';
export type { WeightDtype, KvDtype, LayerGeometry, ParameterBreakdown } from './graph.js';
export { memoryPlan, checkFits, maxBatchAtContext, kvBytesForBatch, activationBytesPerGpu, validTpDegrees } from './memory.js';
export type { MemoryPlan } from './memory.js';
export { predict, createPredictor, evaluate, sumMaxAffine } from './predict.js';
export type { PredictOptions, PredictionDetail, PredictMode, Predictor } from './predict.js';
