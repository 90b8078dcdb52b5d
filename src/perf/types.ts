import type { Dtype } from '../hardware/types.js';

/** What bounds an operator's time. */
export type Bound = 'compute' | 'memory' | 'overhead' | 'communication';
export type Phase = 'prefill' | 'decode';

/** One operator of the per-operator table (GenZ-style). */
export interface OpCost {
  op: string;
  phase: Phase;
  seconds: number;
  bound: Bound;
  flops: number;
  bytes: number;
}

/**
 * One engine step of a batch: some sequences prefill `tokens` new tokens on top of `pastTokens`
 * already in the KV cache (pastTokens > 0 for chunked prefill or a cached prefix); others decode one
 * token against `pastTokens` of context. This is the unit the agent and serving simulators cost.
 */
export interface StepBatch {
  prefill: { tokens: number; pastTokens: number }[];
  decode: { pastTokens: number }[];
}

export interface StepCost {
  /** wall-clock seconds of the step on the instance, engine overhead included */
  seconds: number;
  /** the parts of `seconds` (they add up to it) */
  computeS: number;
  memoryS: number;
  overheadS: number;
  communicationS: number;
  /** FLOPs and DRAM bytes per GPU */
  flops: number;
  bytes: number;
  ops: OpCost[];
}

/** The workload of one `predict`: a static batch, all sequences the same length. */
export interface Workload {
  batch: number;
  inputTokens: number;
  outputTokens: number;
  weightDtype: Dtype;
  kvDtype: Dtype;
}

export interface Prediction {
  ttftS: number;
  tpotS: number;
  e2eS: number;
  outputTokensPerS: number;
  batch: number;
  weightsBytesPerGpu: number;
  kvBytesPerToken: number;
  fits: boolean;
  breakdown: { op: string; phase: Phase; seconds: number; bound: Bound }[];
}
