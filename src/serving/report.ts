import type { Percentiles, ServeRun } from './simulate.js';

type Pct = { p50: number; p95: number; p99: number };

/** One load point as `roofcast serve --json` prints it (these names are a public contract). */
export interface ServePoint {
  qps: number;
  throughputQps: number;
  latencyS: Pct;
  latencyMeanS: number;
  ttftS: Pct;
  tpotS: Pct;
  energyWhPerQuery: number;
  kvCacheBytes: { mean: number; max: number };
  prefixHitRate: number;
  gpuUtilisation: number;
  sessions: number;
  llmCalls: number;
  makespanS: number;
  kvPoolBytes: number;
  meanBatch: number;
  preemptions: number;
  energyWhPerSessionP95: number;
  tokens: ServeRun['tokens'];
}

const pct = (p: Percentiles): Pct => ({ p50: p.p50, p95: p.p95, p99: p.p99 });

export function servePoint(run: ServeRun): ServePoint {
  return {
    qps: run.qps,
    throughputQps: run.throughputQps,
    latencyS: pct(run.latencyS),
    latencyMeanS: run.latencyS.mean,
    ttftS: pct(run.ttftS),
    tpotS: pct(run.tpotS),
    energyWhPerQuery: run.energyWhPerQuery,
    kvCacheBytes: run.kvCacheBytes,
    prefixHitRate: run.prefixHitRate,
    gpuUtilisation: run.gpuUtilisation,
    sessions: run.sessions,
    llmCalls: run.llmCalls,
    makespanS: run.makespanS,
    kvPoolBytes: run.kvPoolBytes,
    meanBatch: run.meanBatch,
    preemptions: run.preemptions,
    energyWhPerSessionP95: run.energyWhPerSession.p95,
    tokens: run.tokens,
  };
}
