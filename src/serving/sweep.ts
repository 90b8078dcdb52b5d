import { UserError } from '../errors.js';
import type { ServeInstance } from './instance.js';
import { simulateServing, type ServeOptions, type ServeRun } from './simulate.js';
import { buildArrivals, sessionAt, type ArrivalSpan, type SessionSource } from './workload.js';

export interface ServeConfig {
  instance: ServeInstance;
  source: SessionSource;
  span: ArrivalSpan;
  options: ServeOptions;
}

/** Sessions the unloaded baseline runs, one after another (enough for a p95, quick to simulate). */
export const UNLOADED_SESSIONS = 200;

/** One load point: Poisson arrivals at `qps` (or the trace's own arrival times). */
export function serveAt(config: ServeConfig, qps: number): ServeRun {
  return simulateServing(config.instance, buildArrivals(config.source, qps, config.span), qps, config.options);
}

/**
 * The unloaded baseline: the first sessions of the source served one at a time (each arrives when
 * the previous ends), with the same engine settings, prefix cache included.
 */
export function serveUnloaded(config: ServeConfig, sessions = UNLOADED_SESSIONS): ServeRun {
  const count = config.source.kind === 'trace' ? Math.min(sessions, config.source.sessions.length) : sessions;
  const arrivals = Array.from({ length: count }, (_, i) => ({ session: sessionAt(config.source, i), arrivalS: 0 }));
  return simulateServing(config.instance, arrivals, 0, { ...config.options, closedLoop: true });
}

/**
 * The knee: the highest QPS of the curve, walking up from the lowest, before the first point whose
 * p95 latency exceeds `factor` x the unloaded p95. null when even the lowest point exceeds it.
 */
export function kneeQps(points: readonly Pick<ServeRun, 'qps' | 'latencyS'>[], unloadedP95S: number, factor: number): number | null {
  let knee: number | null = null;
  for (const p of [...points].sort((a, b) => a.qps - b.qps)) {
    if (!(p.latencyS.p95 <= factor * unloadedP95S)) break;
    knee = p.qps;
  }
  return knee;
}

export interface SweepResult {
  points: ServeRun[];
  unloaded: ServeRun;
  kneeFactor: number;
  kneeQps: number | null;
}

export function sweep(config: ServeConfig, qpsList: readonly number[], kneeFactor: number, onPoint?: (done: number) => void): SweepResult {
  const unloaded = serveUnloaded(config);
  const points: ServeRun[] = [];
  for (const q of qpsList) {
    points.push(serveAt(config, q));
    onPoint?.(points.length);
  }
  return { points, unloaded, kneeFactor, kneeQps: kneeQps(points, unloaded.latencyS.p95, kneeFactor) };
}

export const MAX_SWEEP_POINTS = 200;

/** Parses `Q1:Q2:STEP` into Q1, Q1+STEP, ... up to Q2 (inclusive, within rounding). */
export function parseSweep(text: string): number[] {
  const parts = text.split(':');
  const nums = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (parts.length !== 3 || nums.some((n) => !Number.isFinite(n))) {
    throw new UserError(`--sweep '${text}' must be Q1:Q2:STEP, three numbers (e.g. 0.5:8:0.5)`);
  }
  const [q1, q2, stepQ] = nums;
  if (q1 <= 0) throw new UserError(`--sweep '${text}': Q1 must be greater than 0`);
  if (q2 < q1) throw new UserError(`--sweep '${text}': Q2 must not be below Q1`);
  if (stepQ <= 0) throw new UserError(`--sweep '${text}': STEP must be greater than 0`);
  const count = Math.floor((q2 - q1) / stepQ + 1e-9) + 1;
  if (count > MAX_SWEEP_POINTS) throw new UserError(`--sweep '${text}' has ${count} points, more than ${MAX_SWEEP_POINTS}`);
  // round to the step's decimals so 0.1 steps print as 0.3, not 0.30000000000000004
  const decimals = Math.min(12, Math.max(decimalsOf(q1), decimalsOf(stepQ)));
  return Array.from({ length: count }, (_, i) => Number((q1 + i * stepQ).toFixed(decimals)));
}

function decimalsOf(x: number): number {
  const s = String(x);
  if (s.includes('e-')) return Number(s.split('e-')[1]) + (s.split('e')[0].split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}
