export { parseTraceJsonl, readTraceFile, toTraceJsonl, type LlmStep, type Session, type Step, type ToolStep } from './trace.js';
export { Rng } from './rng.js';
export {
  accuracyFor,
  listParameters,
  successProbability,
  BENCHMARK_PRESETS,
  BENCHMARKS,
  STUDY_ACCURACY,
  WORKFLOW_PRESET,
  WORKFLOWS,
  type BenchmarkId,
  type BenchmarkParams,
  type ParameterEntry,
  type WorkflowId,
  type WorkflowParams,
} from './presets.js';
export { generateSession, type GenerateOptions } from './generate.js';
export { simulateSession, StepCostCache, PREFIX_BLOCK_TOKENS, type EpisodeResult, type SimOptions, type SimTarget, type ToolSpan } from './simulate.js';
export { runMonteCarlo, summarize, quantile, type AgentSummary, type MonteCarloOptions, type MonteCarloResult } from './montecarlo.js';
export { buildAgentTarget, chooseTp, DEFAULT_FIT_CONTEXT_TOKENS, type AgentTarget, type AgentTargetOptions } from './setup.js';
export { toChromeTrace } from './chrome-trace.js';
export { reproduceStudy, STUDY_TABLE_III, STUDY_TABLE_IV, type StudyResult } from './study.js';
