import { fleetPowerW, JOULES_PER_WH } from '../energy/power.js';
import { generateSession, type GenerateOptions } from './generate.js';
import { Rng } from './rng.js';
import { simulateSession, StepCostCache, type EpisodeResult, type SimOptions, type SimTarget } from './simulate.js';
import type { Session } from './trace.js';

/** The result of many episodes: the `roofcast agent --json` fields (names are a public contract). */
export interface AgentSummary {
  episodes: number;
  latencyS: { mean: number; p50: number; p95: number; p99: number };
  energyWh: { mean: number; p95: number };
  energyJ: { mean: number };
  llmCalls: { mean: number };
  inputTokens: { mean: number };
  outputTokens: { mean: number };
  /** prompt tokens actually prefilled (after prefix-cache hits) */
  prefillTokens: { mean: number };
  /** idle GPU time / wall time, summed over episodes (time-weighted) */
  gpuIdleFraction: number;
  /** tool execution time / end-to-end latency, summed over episodes */
  toolLatencyShare: number;
  /** prefill time / busy GPU time, summed over episodes */
  prefillShareOfGpuTime: number;
  /** peak KV-cache bytes of one request (whole instance): mean and max over episodes */
  kvCacheBytes: { mean: number; max: number };
  queriesPerDay: number;
  pue: number;
  /** energy per query x queries per day / 24 h x PUE */
  fleetPowerW: number;
}

/** Linear-interpolated quantile of sorted values (q in [0, 1]). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export function summarize(results: readonly EpisodeResult[], queriesPerDay: number, pue: number): AgentSummary {
  const lat = results.map((r) => r.latencyS).sort((a, b) => a - b);
  const energyWh = results.map((r) => r.energyJ / JOULES_PER_WH).sort((a, b) => a - b);
  const sum = (f: (r: EpisodeResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const wall = sum((r) => r.latencyS);
  const busy = sum((r) => r.gpuBusyS);
  const energyJMean = mean(results.map((r) => r.energyJ));
  const kv = results.map((r) => r.kvPeakBytes);
  return {
    episodes: results.length,
    latencyS: { mean: mean(lat), p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), p99: quantile(lat, 0.99) },
    energyWh: { mean: energyJMean / JOULES_PER_WH, p95: quantile(energyWh, 0.95) },
    energyJ: { mean: energyJMean },
    llmCalls: { mean: mean(results.map((r) => r.llmCalls)) },
    inputTokens: { mean: mean(results.map((r) => r.inputTokens)) },
    outputTokens: { mean: mean(results.map((r) => r.outputTokens)) },
    prefillTokens: { mean: mean(results.map((r) => r.prefillTokens)) },
    gpuIdleFraction: wall > 0 ? sum((r) => r.gpuIdleS) / wall : 0,
    toolLatencyShare: wall > 0 ? sum((r) => r.toolS) / wall : 0,
    prefillShareOfGpuTime: busy > 0 ? sum((r) => r.prefillS) / busy : 0,
    kvCacheBytes: { mean: mean(kv), max: Math.max(...kv) },
    queriesPerDay,
    pue,
    fleetPowerW: fleetPowerW(energyJMean, queriesPerDay, pue),
  };
}

export interface MonteCarloOptions extends SimOptions {
  episodes: number;
  seed: number;
  queriesPerDay: number;
  pue: number;
  /** called every 50 episodes and at the end (progress bars) */
  onProgress?: (done: number, total: number) => void;
}

export interface MonteCarloResult {
  summary: AgentSummary;
  /** the first episode, re-simulated with its timeline recorded when options.record is set */
  first: { session: Session; result: EpisodeResult };
}

/**
 * Monte Carlo over generated episodes (seeded: the same seed gives the same sessions), or over
 * the sessions of a recorded trace (each costed once; `episodes` is ignored).
 */
export function runMonteCarlo(
  target: SimTarget,
  source: { generate: GenerateOptions } | { sessions: Session[] },
  options: MonteCarloOptions,
): MonteCarloResult {
  const cache = new StepCostCache(target);
  const sim: SimOptions = { prefixCaching: options.prefixCaching, decodeChunk: options.decodeChunk };
  const results: EpisodeResult[] = [];
  let first: Session | null = null;
  if ('sessions' in source) {
    source.sessions.forEach((s, i) => {
      results.push(simulateSession(s, cache, sim));
      if ((i + 1) % 50 === 0) options.onProgress?.(i + 1, source.sessions.length);
    });
    first = source.sessions[0];
  } else {
    const rng = new Rng(options.seed);
    for (let i = 0; i < options.episodes; i++) {
      const session = generateSession(rng, source.generate, `${source.generate.workflow}-${i}`);
      if (i === 0) first = session;
      results.push(simulateSession(session, cache, sim));
      if ((i + 1) % 50 === 0) options.onProgress?.(i + 1, options.episodes);
    }
  }
  options.onProgress?.(results.length, results.length);
  if (!first) throw new Error('no episodes');
  const firstResult = options.record ? simulateSession(first, cache, { ...sim, record: true }) : results[0];
  return { summary: summarize(results, options.queriesPerDay, options.pue), first: { session: first, result: firstResult } };
}
