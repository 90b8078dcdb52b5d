/** Serving under load: a discrete-event simulation of one instance (src/serving/simulate.ts). */
export { BlockPool } from './blocks.js';
export { buildInstance, type ServeInstance, type InstanceOptions } from './instance.js';
export {
  simulateServing,
  sharedPrefixTokens,
  type ServeOptions,
  type ServeRun,
  type Percentiles,
  type RequestRecord,
  type StepRecord,
  type TokenCounts,
} from './simulate.js';
export {
  buildArrivals,
  poissonArrivals,
  parseServeTrace,
  readServeTrace,
  sessionAt,
  MAX_SESSIONS,
  type Arrival,
  type ArrivalSpan,
  type SessionSource,
} from './workload.js';
export { serveAt, serveUnloaded, sweep, kneeQps, parseSweep, UNLOADED_SESSIONS, type ServeConfig, type SweepResult } from './sweep.js';
export { servePoint, type ServePoint } from './report.js';
