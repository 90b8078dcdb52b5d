import { UserError } from '../errors.js';
import { acceleratorIds, getAccelerator } from '../hardware/index.js';
import { priceTable, type PriceEntry, type PriceTable } from '../hardware/prices.js';
import type { ModelSpec } from '../models/types.js';
import { getEngine, type EngineSpec } from '../perf/engines.js';
import { defaultKvDtype, weightsBytesPerGpu, type KvDtype, type WeightDtype } from '../perf/graph.js';
import { maxBatchAtContext, memoryPlan, validTpDegrees } from '../perf/memory.js';
import { targetFromAccelerator, type PerfTarget } from '../perf/target.js';
import { referenceEfficiency } from '../hardware/index.js';
import type { StepBatch } from '../perf/types.js';
import { stepPowerW } from '../energy/power.js';
import { buildAgentTarget, DEFAULT_FIT_CONTEXT_TOKENS } from '../agents/setup.js';
import { runMonteCarlo } from '../agents/montecarlo.js';
import { accuracyFor, type BenchmarkId, type WorkflowId } from '../agents/presets.js';
import type { SimTarget } from '../agents/simulate.js';
import { compareNullable, paretoFront } from './pareto.js';

/** What one query asks of the GPUs, per LLM call (means over the workload). */
export interface QueryShape {
  /** LLM calls per query */
  llmCalls: number;
  /** prompt tokens of a call (context before it) */
  inputTokens: number;
  /** prompt tokens actually prefilled (the rest is a cached prefix) */
  freshTokens: number;
  outputTokens: number;
  /** latency of one query served alone: p50 and p95 (a deterministic query: both the same) */
  aloneLatencyS: { p50: number; p95: number };
  /** share of that latency the GPU is busy (the rest is tool waits) */
  busyFraction: number;
  /** GPU energy of one query served alone, Wh (idle tool waits included), where simulated */
  aloneEnergyWh: number | null;
}

export type CompareWorkload =
  | { kind: 'tokens'; inputTokens: number; outputTokens: number }
  | { kind: 'workflow'; workflow: WorkflowId; benchmark: BenchmarkId; episodes: number; seed: number; prefixCaching: boolean };

export interface CompareOptions {
  model: ModelSpec;
  workload: CompareWorkload;
  gpus: string[];
  engine: string;
  weightDtype: WeightDtype;
  /** queries per second to serve; absent: one instance at its best batch */
  qps?: number;
  /** p95 latency bound, seconds */
  p95MaxS?: number;
  prices?: PriceTable;
  sort?: SortKey;
}

export const SORT_KEYS = ['cost', 'latency', 'energy', 'gpus'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** One row of `roofcast compare --json`; the first nine fields are a public contract. */
export interface CompareRow {
  gpu: string;
  tp: number;
  latencyS: { p50: number; p95: number };
  energyWhPerQuery: number;
  gpusNeeded: number;
  costPerMillionQueries: number | null;
  fleetPowerW: number;
  pareto: boolean;
  rank: number;
  /** concurrent LLM calls per instance at the operating point */
  batch: number;
  /** the largest batch within the bound and the memory: the capacity point */
  maxBatch: number;
  /** queries/s one instance sustains at maxBatch */
  capacityQps: number;
  instances: number;
  /** busy share of each instance at the operating point */
  utilisation: number;
  /** queries/s the row is costed at: --qps, else the capacity of one instance */
  servedQps: number;
  energyWhPerQueryAlone: number | null;
  /** the per-call shape the row was costed with (means for agent workloads) */
  llmCallsPerQuery: number;
  inputTokensPerCall: number;
  outputTokensPerCall: number;
  price: PriceEntry | null;
}

export interface ExcludedRow {
  gpu: string;
  tp: number | null;
  reason: string;
  /** p95 at batch 1 where the bound excluded it */
  p95AloneS?: number;
}

export interface CompareResult {
  model: string;
  engine: string;
  weightDtype: WeightDtype;
  workload: CompareWorkload;
  qps: number | null;
  p95MaxS: number | null;
  sort: SortKey;
  rows: CompareRow[];
  excluded: ExcludedRow[];
  method: string[];
}

export const COMPARE_METHOD = [
  'Each instance is one accelerator group of tp GPUs running the engine; a batch of b concurrent LLM calls is costed step by step with the roofline step cost (static batch: all b prefill together, then decode in lockstep), and each step draws the power model power of its achieved FLOP and byte rates.',
  'Latency at batch b: one call takes T(b); a query of the --input/--output kind is one call, so p50 = p95 = T(b). An agent query is simulated alone (Monte Carlo, src/agents) and its GPU-busy share is stretched by T(b)/T(1): latency(b) = latency(1) x (idle share + busy share x T(b)/T(1)).',
  'Capacity of one instance: the largest b whose p95 stays within --p95-max and whose KV cache fits (and within the engine sequence limit); it sustains b / T(b) / (LLM calls per query) queries/s.',
  'GPUs needed for --qps Q: instances = ceil(Q / capacity), gpusNeeded = instances x tp; each instance then runs at the smallest batch that carries Q / instances and is busy the rest of the time at idle power. Without --qps: one instance at capacity.',
  'Energy per query = fleet power / served queries/s (tool waits of agents overlap with other queries and are not charged); cost per million queries = gpusNeeded x price per GPU-hour / 3600 / served qps x 1e6.',
  'Pareto front: rows no other row beats on p95 latency, energy per query and cost per million queries at once (a row without a price counts as infinitely expensive).',
];

/** An instance of tp GPUs: time and energy of a batch of b identical calls. */
export interface InstanceModel {
  tp: number;
  idleW: number;
  maxBatch: number;
  call(b: number): { seconds: number; energyJ: number };
}

function buildInstance(sim: SimTarget, engine: EngineSpec, shape: QueryShape, maxBatch: number): InstanceModel {
  const memo = new Map<number, { seconds: number; energyJ: number }>();
  const cost = (batch: StepBatch, repeat: number, acc: { seconds: number; energyJ: number }) => {
    const c = sim.stepCost(batch);
    acc.seconds += c.seconds * repeat;
    acc.energyJ += c.seconds * repeat * stepPowerW(sim.power, c, sim.peaks) * sim.gpus;
  };
  const fresh = Math.max(1, Math.round(shape.freshTokens));
  const cached = Math.max(0, Math.round(shape.inputTokens) - fresh);
  const input = cached + fresh;
  const output = Math.max(1, Math.round(shape.outputTokens));
  const budget = Math.max(1, engine.maxBatchedTokens.value);
  return {
    tp: sim.gpus,
    idleW: sim.power.idleW.value,
    maxBatch,
    call(b: number) {
      const hit = memo.get(b);
      if (hit) return hit;
      const acc = { seconds: 0, energyJ: 0 };
      // prefill: whole prompts packed into the engine's token budget, long prompts chunked
      if (fresh <= budget) {
        const perStep = Math.min(b, Math.floor(budget / fresh));
        const full = Math.floor(b / perStep);
        const rest = b - full * perStep;
        const seqs = (n: number) => Array.from({ length: n }, () => ({ tokens: fresh, pastTokens: cached }));
        cost({ prefill: seqs(perStep), decode: [] }, full, acc);
        if (rest > 0) cost({ prefill: seqs(rest), decode: [] }, 1, acc);
      } else {
        const chunks = Math.ceil(fresh / budget);
        for (let k = 0; k < chunks; k++) {
          const tokens = Math.min(budget, fresh - k * budget);
          cost({ prefill: [{ tokens, pastTokens: cached + k * budget }], decode: [] }, b, acc);
        }
      }
      // decode: output - 1 steps; attention grows with context, costed at the middle of 8 segments
      const steps = output - 1;
      const segments = Math.min(8, steps);
      for (let s = 0; s < segments; s++) {
        const from = Math.floor((s * steps) / segments);
        const to = Math.floor(((s + 1) * steps) / segments);
        if (to <= from) continue;
        const past = input + Math.round((from + to) / 2);
        cost({ prefill: [], decode: Array.from({ length: b }, () => ({ pastTokens: past })) }, to - from, acc);
      }
      memo.set(b, acc);
      return acc;
    },
  };
}

/** Largest integer in [lo, hi] for which `ok` holds, assuming ok is true then false; lo - 1 if none. */
function lastTrue(lo: number, hi: number, ok: (x: number) => boolean): number {
  if (!ok(lo)) return lo - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Smallest integer in [lo, hi] for which `ok` holds, assuming false then true; hi if none. */
function firstTrue(lo: number, hi: number, ok: (x: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface OperatingPoint {
  batch: number;
  maxBatch: number;
  capacityQps: number;
  instances: number;
  utilisation: number;
  servedQps: number;
  latencyS: { p50: number; p95: number };
  fleetPowerW: number;
  energyWhPerQuery: number;
}

/** Latency of a query at batch b (see COMPARE_METHOD). */
function latencyAt(inst: InstanceModel, shape: QueryShape, b: number): { p50: number; p95: number } {
  const stretch = inst.call(b).seconds / inst.call(1).seconds;
  const f = (1 - shape.busyFraction) + shape.busyFraction * stretch;
  return { p50: shape.aloneLatencyS.p50 * f, p95: shape.aloneLatencyS.p95 * f };
}

/**
 * The operating point of one (accelerator, tp): capacity within the bound, instances for the
 * demand, latency, power and energy per query. Null when even batch 1 misses the bound.
 */
export function operatingPoint(inst: InstanceModel, shape: QueryShape, qps: number | undefined, p95MaxS: number | undefined): OperatingPoint | null {
  const qpsAt = (b: number) => b / inst.call(b).seconds / shape.llmCalls;
  const within = (b: number) => p95MaxS === undefined || latencyAt(inst, shape, b).p95 <= p95MaxS;
  const maxBatch = lastTrue(1, Math.max(1, inst.maxBatch), within);
  if (maxBatch < 1) return null;
  const capacityQps = qpsAt(maxBatch);
  let instances = 1;
  let batch = maxBatch;
  let servedQps = capacityQps;
  if (qps !== undefined) {
    instances = Math.ceil(qps / capacityQps - 1e-9);
    const perInstance = qps / instances;
    batch = firstTrue(1, maxBatch, (b) => qpsAt(b) >= perInstance);
    servedQps = qps;
  }
  const utilisation = Math.min(1, servedQps / instances / qpsAt(batch));
  const call = inst.call(batch);
  const busyPowerW = call.energyJ / call.seconds;
  const fleetPowerW = instances * (utilisation * busyPowerW + (1 - utilisation) * inst.tp * inst.idleW);
  return {
    batch,
    maxBatch,
    capacityQps,
    instances,
    utilisation,
    servedQps,
    latencyS: latencyAt(inst, shape, batch),
    fleetPowerW,
    energyWhPerQuery: fleetPowerW / servedQps / 3600,
  };
}


export function referenceTarget(gpu: string): PerfTarget {
  return targetFromAccelerator(getAccelerator(gpu), referenceEfficiency(gpu));
}

/** Tensor-parallel degrees to compare: the smallest that holds one request, and the next one. */
export function tpCandidates(model: ModelSpec, target: PerfTarget, engine: EngineSpec, weightDtype: WeightDtype, contextTokens: number): number[] {
  const degrees = validTpDegrees(model, target);
  const fits = degrees.filter((tp) => maxBatchAtContext(memoryPlan(model, target, engine, tp, weightDtype, defaultKvDtype(weightDtype)), contextTokens) >= 1);
  return fits.slice(0, 2);
}

/** The per-call shape of the workload on one instance (agent workloads are simulated on it). */
function shapeOf(options: CompareOptions, sim: SimTarget): QueryShape {
  const w = options.workload;
  if (w.kind === 'tokens') {
    return {
      llmCalls: 1,
      inputTokens: w.inputTokens,
      freshTokens: w.inputTokens,
      outputTokens: w.outputTokens,
      aloneLatencyS: { p50: 0, p95: 0 }, // filled from the instance below
      busyFraction: 1,
      aloneEnergyWh: null,
    };
  }
  const stops = w.workflow === 'reflexion' || w.workflow === 'lats';
  const benchmark = w.workflow === 'sharegpt' ? 'hotpotqa' : w.benchmark;
  const accuracy = stops ? accuracyFor(options.model.id, w.workflow, benchmark).value : 0;
  const mc = runMonteCarlo(sim, { generate: { workflow: w.workflow, benchmark, accuracy } }, {
    episodes: w.episodes,
    seed: w.seed,
    queriesPerDay: 1,
    pue: 1,
    prefixCaching: w.prefixCaching,
    decodeChunk: 16,
  });
  const s = mc.summary;
  const calls = Math.max(1e-9, s.llmCalls.mean);
  return {
    llmCalls: s.llmCalls.mean,
    inputTokens: s.inputTokens.mean / calls,
    freshTokens: s.prefillTokens.mean / calls,
    outputTokens: s.outputTokens.mean / calls,
    aloneLatencyS: { p50: s.latencyS.p50, p95: s.latencyS.p95 },
    busyFraction: 1 - s.gpuIdleFraction,
    aloneEnergyWh: s.energyWh.mean,
  };
}

const GB = 1e9;

/** Ranks rows in place by the sort key (ties: p95, then energy) and numbers them from 1. */
export function rankRows(rows: CompareRow[], sort: SortKey): CompareRow[] {
  const key = (r: CompareRow): number | null =>
    sort === 'cost' ? r.costPerMillionQueries : sort === 'latency' ? r.latencyS.p95 : sort === 'energy' ? r.energyWhPerQuery : r.gpusNeeded;
  rows.sort(
    (a, b) =>
      compareNullable(key(a), key(b)) ||
      compareNullable(a.latencyS.p95, b.latencyS.p95) ||
      compareNullable(a.energyWhPerQuery, b.energyWhPerQuery) ||
      a.gpu.localeCompare(b.gpu) ||
      a.tp - b.tp,
  );
  rows.forEach((r, i) => (r.rank = i + 1));
  return rows;
}

/** Marks the rows on the Pareto front of p95 latency, energy per query and cost. */
export function markPareto(rows: CompareRow[]): void {
  const front = paretoFront(rows.map((r) => [r.latencyS.p95, r.energyWhPerQuery, r.costPerMillionQueries]));
  rows.forEach((r, i) => (r.pareto = front[i]));
}

function fmtS(s: number): string {
  return s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toPrecision(3);
}

/** The one-line refusal when no row survives, saying what would work. */
function refusal(options: CompareOptions, excluded: ExcludedRow[], contextTokens: number): UserError {
  const bound = excluded.filter((e) => e.p95AloneS !== undefined);
  if (bound.length > 0) {
    const best = bound.reduce((a, b) => (a.p95AloneS! <= b.p95AloneS! ? a : b));
    return new UserError(
      `no accelerator meets --p95-max ${options.p95MaxS} s: the lowest p95 latency, one query at a time, is ${fmtS(best.p95AloneS!)} s (${best.gpu} at tp ${best.tp}); raise --p95-max to at least ${fmtS(best.p95AloneS!)} or add faster accelerators`,
    );
  }
  const weightsGb = weightsBytesPerGpu(options.model, options.weightDtype, 1) / GB;
  const what = `${options.model.id} (${options.weightDtype}, ${weightsGb.toFixed(0)} GB of weights) with ${contextTokens} tokens of context fits none of ${options.gpus.join(', ')}, even at the largest tensor-parallel degree each allows`;
  // say what would: a narrower weight format on these parts, or another catalog accelerator
  for (const dtype of ['fp8', 'int4'] as WeightDtype[]) {
    if (dtype === options.weightDtype) continue;
    for (const gpu of options.gpus) {
      const target = referenceTarget(gpu);
      const tps = tpCandidates(options.model, target, getEngine(options.engine), dtype, contextTokens);
      if (tps.length > 0) return new UserError(`${what}; with --weight-dtype ${dtype} it fits on ${gpu} at tp ${tps[0]}`);
    }
  }
  for (const gpu of acceleratorIds()) {
    if (options.gpus.includes(gpu)) continue;
    const tps = tpCandidates(options.model, referenceTarget(gpu), getEngine(options.engine), options.weightDtype, contextTokens);
    if (tps.length > 0) return new UserError(`${what}; it fits on ${gpu} at tp ${tps[0]} (--gpus ${gpu})`);
  }
  return new UserError(`${what}, nor on any catalog accelerator; use a smaller model or weight format`);
}

/** Runs the comparison: every accelerator, every candidate tp, ranked with the Pareto front marked. */
export function runCompare(options: CompareOptions): CompareResult {
  const engine = getEngine(options.engine);
  const prices = options.prices ?? priceTable();
  const sort = options.sort ?? 'cost';
  const w = options.workload;
  const kvDtype = defaultKvDtype(options.weightDtype);
  const fitContext = w.kind === 'tokens' ? w.inputTokens + w.outputTokens : DEFAULT_FIT_CONTEXT_TOKENS;
  if (options.gpus.length === 0) throw new UserError('give at least one accelerator in --gpus');
  const rows: CompareRow[] = [];
  const excluded: ExcludedRow[] = [];
  for (const gpu of options.gpus) {
    const target = referenceTarget(gpu);
    const tps = tpCandidates(options.model, target, engine, options.weightDtype, fitContext);
    if (tps.length === 0) {
      excluded.push({ gpu, tp: null, reason: `does not hold ${options.model.id} (${options.weightDtype}) and ${fitContext} tokens even at its largest tensor-parallel degree` });
      continue;
    }
    for (const tp of tps) {
      const agentTarget = buildAgentTarget({ model: options.model, gpu, engine: options.engine, tp, weightDtype: options.weightDtype, kvDtype });
      const shape = shapeOf(options, agentTarget.sim);
      const plan = memoryPlan(options.model, target, engine, tp, options.weightDtype, kvDtype);
      const context = Math.round(shape.inputTokens + shape.outputTokens);
      const maxBatch = Math.min(maxBatchAtContext(plan, context), engine.maxSequences.value);
      if (maxBatch < 1) {
        excluded.push({ gpu, tp, reason: `the KV cache of one ${context}-token call does not fit next to the weights` });
        continue;
      }
      const inst = buildInstance(agentTarget.sim, engine, shape, maxBatch);
      if (w.kind === 'tokens') {
        const t1 = inst.call(1).seconds;
        shape.aloneLatencyS = { p50: t1, p95: t1 };
      }
      const op = operatingPoint(inst, shape, options.qps, options.p95MaxS);
      if (!op) {
        const p95 = latencyAt(inst, shape, 1).p95;
        excluded.push({ gpu, tp, reason: `p95 ${fmtS(p95)} s one query at a time exceeds --p95-max ${options.p95MaxS} s`, p95AloneS: p95 });
        continue;
      }
      const price = prices.get(gpu) ?? null;
      const gpusNeeded = op.instances * tp;
      rows.push({
        gpu,
        tp,
        latencyS: op.latencyS,
        energyWhPerQuery: op.energyWhPerQuery,
        gpusNeeded,
        costPerMillionQueries: price ? ((gpusNeeded * price.usdPerGpuHour) / 3600 / op.servedQps) * 1e6 : null,
        fleetPowerW: op.fleetPowerW,
        pareto: false,
        rank: 0,
        batch: op.batch,
        maxBatch: op.maxBatch,
        capacityQps: op.capacityQps,
        instances: op.instances,
        utilisation: op.utilisation,
        servedQps: op.servedQps,
        energyWhPerQueryAlone: shape.aloneEnergyWh,
        llmCallsPerQuery: shape.llmCalls,
        inputTokensPerCall: shape.inputTokens,
        outputTokensPerCall: shape.outputTokens,
        price,
      });
    }
  }
  if (rows.length === 0) throw refusal(options, excluded, fitContext);
  markPareto(rows);
  rankRows(rows, sort);
  return {
    model: options.model.id,
    engine: engine.id,
    weightDtype: options.weightDtype,
    workload: w,
    qps: options.qps ?? null,
    p95MaxS: options.p95MaxS ?? null,
    sort,
    rows,
    excluded,
    method: COMPARE_METHOD,
  };
}

/** The JSON of `compare --json` (and the report's compare.json). */
export function compareJson(r: CompareResult): unknown {
  return {
    model: r.model,
    engine: r.engine,
    weightDtype: r.weightDtype,
    workload: r.workload,
    qps: r.qps,
    p95MaxS: r.p95MaxS,
    sort: r.sort,
    rows: r.rows.map((row) => ({
      gpu: row.gpu,
      tp: row.tp,
      latencyS: row.latencyS,
      energyWhPerQuery: row.energyWhPerQuery,
      gpusNeeded: row.gpusNeeded,
      costPerMillionQueries: row.costPerMillionQueries,
      fleetPowerW: row.fleetPowerW,
      pareto: row.pareto,
      rank: row.rank,
      batch: row.batch,
      maxBatch: row.maxBatch,
      capacityQps: row.capacityQps,
      instances: row.instances,
      utilisation: row.utilisation,
      servedQps: row.servedQps,
      energyWhPerQueryAlone: row.energyWhPerQueryAlone,
      llmCallsPerQuery: row.llmCallsPerQuery,
      inputTokensPerCall: row.inputTokensPerCall,
      outputTokensPerCall: row.outputTokensPerCall,
      usdPerGpuHour: row.price?.usdPerGpuHour ?? null,
      priceDate: row.price?.date ?? null,
      priceSource: row.price?.source ?? null,
    })),
    excluded: r.excluded,
    method: r.method,
  };
}
