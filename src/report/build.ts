import { defaultKvDtype } from '../perf/graph.js';
import { UserError } from '../errors.js';
import type { ModelSpec } from '../models/types.js';
import { readProfile } from '../profile/io.js';
import { getEngine } from '../perf/engines.js';
import type { WeightDtype } from '../perf/graph.js';
import { predict } from '../perf/predict.js';
import { targetFromProfile, type PerfTarget } from '../perf/target.js';
import { buildAgentTarget } from '../agents/setup.js';
import { runMonteCarlo, summarize, type AgentSummary } from '../agents/montecarlo.js';
import { generateSession } from '../agents/generate.js';
import { Rng } from '../agents/rng.js';
import { simulateSession, StepCostCache } from '../agents/simulate.js';
import { accuracyFor, type BenchmarkId, type WorkflowId } from '../agents/presets.js';
import { bandwidthFigure, breakdownFigure, compareFigures, rooflineFigure, timelineFigure, workflowEnergyFigure } from './charts.js';
import { compareJson, referenceTarget, runCompare, type CompareOptions } from './compare.js';
import type { Figure, Report, Row } from './figure.js';

/** Per-operator prefill and decode figures of one request (batch 1) on a target. */
function breakdownFigures(model: ModelSpec, target: PerfTarget, engine: string, tp: number, weightDtype: WeightDtype, inputTokens: number, outputTokens: number): { figures: Figure[]; json: unknown } {
  const p = predict({
    model,
    target,
    engine: getEngine(engine),
    tp,
    workload: { batch: 1, inputTokens, outputTokens, weightDtype, kvDtype: defaultKvDtype(weightDtype) },
  });
  const context = `${model.id} on ${target.id}${tp > 1 ? ` x ${tp}` : ''} (${engine}, ${weightDtype}), one request of ${inputTokens} prompt and ${outputTokens} output tokens`;
  const figures = [breakdownFigure(p.breakdown, 'prefill', context), breakdownFigure(p.breakdown, 'decode', context)].filter((f): f is Figure => f !== null);
  return { figures, json: { ttftS: p.ttftS, tpotS: p.tpotS, e2eS: p.e2eS, breakdown: p.breakdown, warnings: p.warnings } };
}

export interface ProfileReportOptions {
  profilePath: string;
  /** adds the per-operator breakdown of this model on the profile */
  model?: ModelSpec;
  engine: string;
  weightDtype: WeightDtype;
  inputTokens: number;
  outputTokens: number;
  memoryBytes?: number;
}

export function profileReport(o: ProfileReportOptions): Report {
  const profile = readProfile(o.profilePath);
  const figures: Figure[] = [rooflineFigure(profile, `profile ${o.profilePath}`)];
  const bw = bandwidthFigure(profile);
  if (bw) figures.push(bw);
  let breakdown: unknown = null;
  if (o.model) {
    const target = targetFromProfile(profile, { memoryBytes: o.memoryBytes });
    const b = breakdownFigures(o.model, target, o.engine, 1, o.weightDtype, o.inputTokens, o.outputTokens);
    figures.push(...b.figures);
    breakdown = b.json;
  }
  const d = profile.device;
  const fits: Row[] = Object.values(profile.fits).map((f) => ({
    kernelClass: f.kernelClass,
    workUnit: f.workUnit,
    effMax: f.effMax,
    halfWork: f.halfWork,
    fixedS: f.fixedS,
    points: f.points,
    rmsRelError: f.rmsRelError,
  }));
  const ceilings: Row[] = Object.entries(profile.ceilings).map(([k, v]) => ({ ceiling: k, value: v ?? null }));
  return {
    title: `roofcast profile report: ${d.description || d.vendor}`,
    subtitle: `${d.vendor} ${d.architecture} (${d.backend}${d.driver ? `, ${d.driver}` : ''}), calibrated ${profile.createdAt}, timing ${profile.timing}, toggles ${profile.toggles}; ${profile.measurements.length} measurements.`,
    figures,
    tables: [
      { title: 'Fitted ceilings', rows: ceilings },
      { title: 'Fitted efficiency curves (time = fixedS + roofline time / effMax)', rows: fits },
    ],
    notes: [`Profile file: ${o.profilePath}. Every measured point was verified against a CPU reference when the profile was written (schema field verified: true).`],
    json: { kind: 'profile', profile: o.profilePath, device: d, ceilings: profile.ceilings, fits: profile.fits, breakdown },
  };
}

/** The hardware comparison with its Pareto front, plus the breakdown of the top-ranked row. */
export function compareReport(o: CompareOptions): Report {
  const r = runCompare(o);
  const w = r.workload;
  const what = w.kind === 'tokens' ? `${w.inputTokens} prompt / ${w.outputTokens} output tokens per query` : `${w.workflow}${w.workflow === 'sharegpt' ? '' : ` on ${w.benchmark}`} (${w.episodes} Monte Carlo episodes per accelerator)`;
  const demand = r.qps === null ? 'one instance at its capacity' : `${r.qps} queries/s`;
  const context = `${r.model} (${r.weightDtype}, ${r.engine}), ${what}, ${demand}${r.p95MaxS === null ? '' : `, p95 within ${r.p95MaxS} s`}.`;
  const figures = compareFigures(
    r.rows.map((x) => ({
      label: `${x.gpu} x${x.tp}`,
      gpu: x.gpu,
      tp: x.tp,
      p95S: x.latencyS.p95,
      energyWhPerQuery: x.energyWhPerQuery,
      costPerMillionQueries: x.costPerMillionQueries,
      gpusNeeded: x.gpusNeeded,
      pareto: x.pareto,
    })),
    context,
  );
  const top = r.rows[0];
  const b = breakdownFigures(o.model, referenceTarget(top.gpu), o.engine, top.tp, o.weightDtype, Math.max(1, Math.round(top.inputTokensPerCall)), Math.max(1, Math.round(top.outputTokensPerCall)));
  figures.push(...b.figures);
  const ranked: Row[] = r.rows.map((x) => ({
    rank: x.rank,
    gpu: x.gpu,
    tp: x.tp,
    p50S: x.latencyS.p50,
    p95S: x.latencyS.p95,
    energyWhPerQuery: x.energyWhPerQuery,
    gpusNeeded: x.gpusNeeded,
    costPerMillionQueries: x.costPerMillionQueries,
    fleetPowerW: x.fleetPowerW,
    batch: x.batch,
    pareto: x.pareto,
    usdPerGpuHour: x.price?.usdPerGpuHour ?? null,
    priceDate: x.price?.date ?? null,
  }));
  const sources = [...new Map(r.rows.filter((x) => x.price).map((x) => [x.gpu, `${x.gpu}: $${x.price!.usdPerGpuHour}/GPU-hour, ${x.price!.date}, ${x.price!.source}`])).values()];
  return {
    title: `roofcast hardware comparison: ${r.model}`,
    subtitle: context,
    figures,
    tables: [
      { title: `Ranked by ${r.sort} (pareto = on the front of p95, energy and cost)`, rows: ranked },
      ...(r.excluded.length ? [{ title: 'Excluded', rows: r.excluded.map((e) => ({ gpu: e.gpu, tp: e.tp, reason: e.reason })) }] : []),
    ],
    notes: [...r.method, `Per-operator breakdown: the top-ranked row (${top.gpu} x${top.tp}), one call of the mean size.`, ...sources.map((s) => `Price ${s}`)],
    json: { kind: 'compare', ...(compareJson(r) as object), topBreakdown: b.json },
  };
}

export interface AgentReportOptions {
  model: ModelSpec;
  gpu: string;
  engine: string;
  tp?: number;
  weightDtype: WeightDtype;
  workflow: WorkflowId;
  benchmark: BenchmarkId;
  /** workflows of the energy chart (the main one is added when missing) */
  workflows: WorkflowId[];
  episodes: number;
  seed: number;
  prefixCaching: boolean;
}

export function agentReport(o: AgentReportOptions): Report {
  const target = buildAgentTarget({ model: o.model, gpu: o.gpu, engine: o.engine, tp: o.tp, weightDtype: o.weightDtype, kvDtype: defaultKvDtype(o.weightDtype) });
  const label = (w: WorkflowId) => (w === 'sharegpt' ? 'sharegpt' : `${w} on ${o.benchmark}`);
  const sim = { prefixCaching: o.prefixCaching, decodeChunk: 16 };
  const generateOptions = (workflow: WorkflowId) => {
    const stops = workflow === 'reflexion' || workflow === 'lats';
    return { workflow, benchmark: o.benchmark, accuracy: stops ? accuracyFor(o.model.id, workflow, o.benchmark).value : 0 };
  };
  const run = (workflow: WorkflowId) =>
    runMonteCarlo(target.sim, { generate: generateOptions(workflow) }, { episodes: o.episodes, seed: o.seed, queriesPerDay: 1, pue: 1, ...sim });
  // the timeline shows the episode of median latency (the same seeded episodes as the summary)
  const cache = new StepCostCache(target.sim);
  const rng = new Rng(o.seed);
  const sessions = Array.from({ length: o.episodes }, (_, i) => generateSession(rng, generateOptions(o.workflow), `${o.workflow}-${i}`));
  const results = sessions.map((session) => simulateSession(session, cache, sim));
  const order = results.map((r, i) => i).sort((a, b) => results[a].latencyS - results[b].latencyS);
  const medianIndex = order[Math.floor((order.length - 1) / 2)];
  const ep = simulateSession(sessions[medianIndex], cache, { ...sim, record: true });
  if (!ep.segments || !ep.toolSpans) throw new Error('the recorded episode has no timeline');
  const main = { summary: summarize(results, 1, 1) };
  const where = `${o.model.id} on ${target.perf.id} x ${target.tp} (${target.engine})`;
  const figures: Figure[] = [timelineFigure(ep.segments, ep.toolSpans, `${label(o.workflow)}, ${where}, the episode of median latency (number ${medianIndex}) of ${o.episodes} seeded episodes (seed ${o.seed})`)];
  const list = o.workflows.includes(o.workflow) ? o.workflows : [o.workflow, ...o.workflows];
  const summaries = new Map<WorkflowId, AgentSummary>([[o.workflow, main.summary]]);
  for (const w of list) if (!summaries.has(w)) summaries.set(w, run(w).summary);
  const energy = list.map((w) => {
    const s = summaries.get(w)!;
    return { workflow: w, energyWhMean: s.energyWh.mean, energyWhP95: s.energyWh.p95, latencyP50S: s.latencyS.p50, latencyP95S: s.latencyS.p95, llmCallsMean: s.llmCalls.mean };
  });
  figures.push(
    workflowEnergyFigure(
      energy,
      `${where}, benchmark ${o.benchmark}, ${o.episodes} episodes each, one query at a time: GPU energy of every GPU of the instance over the whole query, tool waits at idle power included (as the study measures it).`,
    ),
  );
  const s = main.summary;
  const b = breakdownFigures(o.model, target.perf, o.engine, target.tp, o.weightDtype, Math.max(1, Math.round(s.inputTokens.mean / s.llmCalls.mean)), Math.max(1, Math.round(s.outputTokens.mean / s.llmCalls.mean)));
  figures.push(...b.figures);
  const rows: Row[] = list.map((w) => {
    const x = summaries.get(w)!;
    return {
      workflow: w,
      latencyP50S: x.latencyS.p50,
      latencyP95S: x.latencyS.p95,
      energyWhMean: x.energyWh.mean,
      energyWhP95: x.energyWh.p95,
      llmCallsMean: x.llmCalls.mean,
      gpuIdleFraction: x.gpuIdleFraction,
      toolLatencyShare: x.toolLatencyShare,
      prefillShareOfGpuTime: x.prefillShareOfGpuTime,
    };
  });
  const p = target.sim.power;
  return {
    title: `roofcast agent report: ${label(o.workflow)}`,
    subtitle: `${where}, tp ${target.tpSource}; prefix caching ${o.prefixCaching ? 'on' : 'off'}.`,
    figures,
    tables: [{ title: 'Workflows (Monte Carlo, one query at a time)', rows }],
    notes: [
      `Power model of ${p.acceleratorId}: idle ${p.idleW.value} W (${p.idleW.source}); TDP ${p.tdpW.value} W (${p.tdpW.source}); memory-bound ${p.memoryBoundW.value} W (${p.memoryBoundW.source}).`,
      `Per-operator breakdown: one call of the mean size of ${label(o.workflow)} (${Math.round(s.inputTokens.mean / s.llmCalls.mean)} prompt, ${Math.round(s.outputTokens.mean / s.llmCalls.mean)} output tokens), batch 1, no prefix cache.`,
    ],
    json: { kind: 'agent', model: o.model.id, gpu: target.perf.id, tp: target.tp, engine: target.engine, benchmark: o.benchmark, seed: o.seed, episodes: o.episodes, workflows: Object.fromEntries(summaries), breakdown: b.json },
  };
}

export function checkWorkflowList(list: string, known: readonly string[]): WorkflowId[] {
  const ids = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!known.includes(id)) throw new UserError(`unknown workflow '${id}' in --workflows (known: ${known.join(', ')})`);
  if (ids.length === 0) throw new UserError('--workflows needs at least one workflow');
  return ids as WorkflowId[];
}
