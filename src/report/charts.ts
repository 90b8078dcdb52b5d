import { z } from 'zod';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../errors.js';
import type { Profile } from '../profile/schema.js';
import type { PowerSegment } from '../energy/timeline.js';
import type { ToolSpan } from '../agents/simulate.js';
import type { Figure, Row } from './figure.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Log-spaced grid of n points from lo to hi. */
function logGrid(lo: number, hi: number, n: number): number[] {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return Array.from({ length: n }, (_, i) => 10 ** (a + ((b - a) * i) / (n - 1)));
}

/** Measured points of every kernel that has both FLOPs and bytes, over the profile's ceilings. */
export function rooflineFigure(profile: Profile, origin: string): Figure {
  const points: Row[] = profile.measurements
    .filter((m) => m.flops > 0 && m.bytes > 0)
    .map((m) => ({
      series: 'measured',
      kernel: m.kernel,
      kernelClass: m.kernelClass ?? m.kernel,
      dtype: m.dtype,
      intensityFlopsPerByte: m.flops / m.bytes,
      flopsPerS: m.flops / m.seconds,
      seconds: m.seconds,
      shape: Object.entries(m.shape).map(([k, v]) => `${k}=${v}`).join(' '),
    }));
  if (points.length === 0) throw new UserError(`${origin} has no measurement with both FLOPs and bytes: nothing to place on a roofline`);
  const c = profile.ceilings;
  const ai = points.map((p) => p.intensityFlopsPerByte as number);
  const peaks = [c.fmaF32FlopsPerS, c.fmaF16FlopsPerS ?? 0];
  const ridgeLo = Math.min(...peaks.filter((p) => p > 0)) / (c.cacheBytesPerS ?? c.memoryBytesPerS);
  const ridgeHi = Math.max(...peaks) / c.memoryBytesPerS;
  const lo = Math.min(...ai, ridgeLo) / 4;
  const hi = Math.max(...ai, ridgeHi) * 4;
  const grid = logGrid(lo, hi, 80);
  const roofs: [string, number, number][] = [[`DRAM ${fmtRate(c.memoryBytesPerS, 'B/s')}, f32 FMA ${fmtRate(c.fmaF32FlopsPerS, 'FLOP/s')}`, c.memoryBytesPerS, c.fmaF32FlopsPerS]];
  if (c.fmaF16FlopsPerS) roofs.push([`DRAM, f16 FMA ${fmtRate(c.fmaF16FlopsPerS, 'FLOP/s')}`, c.memoryBytesPerS, c.fmaF16FlopsPerS]);
  if (c.cacheBytesPerS) roofs.push([`cache ${fmtRate(c.cacheBytesPerS, 'B/s')}, best FMA`, c.cacheBytesPerS, Math.max(...peaks)]);
  const ceilings: Row[] = roofs.flatMap(([name, bw, peak]) =>
    grid.map((x) => ({ series: 'ceiling', ceiling: name, intensityFlopsPerByte: x, flopsPerS: Math.min(peak, bw * x) })),
  );
  const x = { field: 'intensityFlopsPerByte', type: 'quantitative' as const, title: 'arithmetic intensity (FLOP/byte)', scale: { type: 'log' as const } };
  const y = { field: 'flopsPerS', type: 'quantitative' as const, title: 'FLOP/s', scale: { type: 'log' as const }, axis: { format: '.2s' } };
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: 'Roofline: measured kernels over the fitted ceilings',
    width: 560,
    height: 360,
    layer: [
      {
        data: { values: ceilings },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: { x, y, color: { field: 'ceiling', type: 'nominal', title: 'ceiling', scale: { scheme: 'greys' } }, strokeDash: { field: 'ceiling', type: 'nominal', title: 'ceiling' } },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 60, opacity: 0.85 },
        encoding: {
          x,
          y,
          color: { field: 'kernelClass', type: 'nominal', title: 'kernel class', scale: { scheme: 'category10' } },
          shape: { field: 'kernelClass', type: 'nominal', title: 'kernel class' },
          tooltip: [{ field: 'kernel' }, { field: 'shape' }, { field: 'flopsPerS', format: '.3s' }, { field: 'intensityFlopsPerByte', format: '.3g' }],
        },
      },
    ],
    resolve: { scale: { color: 'independent', strokeDash: 'independent', shape: 'independent' } },
  };
  return {
    id: 'roofline',
    title: 'Roofline of the calibrated profile',
    caption: `${points.length} measured kernel runs (achieved FLOP/s = FLOPs / median seconds, intensity = FLOPs / DRAM bytes) over the ceilings of the profile: min(peak, bandwidth x intensity). ${profile.measurements.length - points.length} runs without FLOPs or bytes (streams, dispatch) are not on this chart.`,
    spec,
    data: [...ceilings, ...points],
  };
}

const BandwidthPoint = z.object({
  workingSetBytes: z.number().positive(),
  bytesPerS: z.number().positive(),
  kernel: z.string().optional(),
});

/**
 * Bandwidth vs working-set size: the profile's `series` entry (any key naming bandwidth, a list of
 * { workingSetBytes, bytesPerS, kernel? }), else the stream/copy measurements (bytes moved as size).
 */
export function bandwidthFigure(profile: Profile): Figure | null {
  let rows: Row[] = [];
  let from = '';
  for (const [key, value] of Object.entries(profile.series ?? {})) {
    if (!/bandwidth/i.test(key)) continue;
    const parsed = z.array(BandwidthPoint).safeParse(value);
    if (parsed.success && parsed.data.length > 0) {
      rows = parsed.data.map((p) => ({ kernel: p.kernel ?? key, workingSetBytes: p.workingSetBytes, bytesPerS: p.bytesPerS }));
      from = `the profile's series '${key}'`;
      break;
    }
  }
  if (rows.length === 0) {
    rows = profile.measurements
      .filter((m) => m.bytes > 0 && m.flops === 0)
      .map((m) => ({ kernel: m.kernelClass ?? m.kernel, workingSetBytes: m.bytes, bytesPerS: m.bytes / m.seconds }));
    from = 'the memory-only measurements of the profile (bytes moved per run as the size)';
  }
  if (rows.length === 0) return null;
  const c = profile.ceilings;
  const rules: Row[] = [{ ceiling: 'DRAM ceiling', bytesPerS: c.memoryBytesPerS }];
  if (c.cacheBytesPerS) rules.push({ ceiling: 'cache ceiling', bytesPerS: c.cacheBytesPerS });
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: 'Bandwidth vs working-set size',
    width: 560,
    height: 320,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'workingSetBytes', type: 'quantitative', title: 'working set (bytes)', scale: { type: 'log' }, axis: { format: '.2s' } },
          y: { field: 'bytesPerS', type: 'quantitative', title: 'bandwidth (B/s)', axis: { format: '.2s' } },
          color: { field: 'kernel', type: 'nominal', title: 'kernel' },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [6, 4] },
        encoding: { y: { field: 'bytesPerS', type: 'quantitative' }, color: { value: '#666' }, size: { value: 1 } },
      },
    ],
  };
  return {
    id: 'bandwidth',
    title: 'Bandwidth vs working-set size',
    caption: `From ${from}; dashed lines are the fitted ceilings (DRAM${c.cacheBytesPerS ? ', cache' : ''}).`,
    spec,
    data: [...rows, ...rules],
  };
}

export interface BreakdownOp {
  op: string;
  phase: 'prefill' | 'decode';
  seconds: number;
  bound: string;
}

/** Per-operator time of one phase as horizontal bars coloured by what bounds each operator. */
export function breakdownFigure(ops: readonly BreakdownOp[], phase: 'prefill' | 'decode', context: string): Figure | null {
  const rows: Row[] = ops.filter((o) => o.phase === phase && o.seconds > 0).map((o) => ({ phase, op: o.op, seconds: o.seconds, milliseconds: o.seconds * 1e3, bound: o.bound }));
  if (rows.length === 0) return null;
  const total = rows.reduce((a, r) => a + (r.seconds as number), 0);
  const what = phase === 'prefill' ? 'prefill of the prompt (time to first token)' : 'one decode step (time per output token)';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: `Per-operator breakdown: ${phase}`,
    width: 520,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: 'op', type: 'nominal', sort: '-x', title: null },
      x: { field: 'milliseconds', type: 'quantitative', title: `milliseconds (${what})` },
      color: { field: 'bound', type: 'nominal', title: 'bound by', scale: { domain: ['compute', 'memory', 'overhead', 'communication'], range: ['#d62728', '#1f77b4', '#7f7f7f', '#2ca02c'] } },
      tooltip: [{ field: 'op' }, { field: 'milliseconds', format: '.4g' }, { field: 'bound' }],
    },
  };
  return {
    id: `breakdown-${phase}`,
    title: `Per-operator breakdown of ${phase}`,
    caption: `${context}: ${what}, ${(total * 1e3).toPrecision(4)} ms in all, summed over layers.`,
    spec,
    data: rows,
  };
}

/** Merges consecutive segments of the same kind (decode is recorded in many short chunks). */
function mergeSegments(segments: readonly PowerSegment[]): { kind: string; startS: number; endS: number; energyJ: number }[] {
  const out: { kind: string; startS: number; endS: number; energyJ: number }[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    const e = s.powerW * (s.endS - s.startS);
    if (last && last.kind === s.kind && Math.abs(last.endS - s.startS) < 1e-9) {
      last.endS = s.endS;
      last.energyJ += e;
    } else out.push({ kind: s.kind, startS: s.startS, endS: s.endS, energyJ: e });
  }
  return out;
}

/** One episode on a time axis: GPU lane (prefill, decode, idle) and tool lane. */
export function timelineFigure(segments: readonly PowerSegment[], toolSpans: readonly ToolSpan[], context: string): Figure {
  const gpu: Row[] = mergeSegments(segments).map((s) => ({
    lane: 'GPU',
    kind: s.kind === 'idle' ? 'GPU idle' : `LLM ${s.kind}`,
    startS: s.startS,
    endS: s.endS,
    seconds: s.endS - s.startS,
    meanPowerW: s.endS > s.startS ? s.energyJ / (s.endS - s.startS) : 0,
  }));
  const tools: Row[] = toolSpans.map((t) => ({ lane: 'tools', kind: 'tool call', startS: t.startS, endS: t.endS, seconds: t.endS - t.startS, meanPowerW: null }));
  const rows = [...gpu, ...tools];
  const sum = (k: string) => gpu.filter((r) => r.kind === k).reduce((a, r) => a + (r.seconds as number), 0);
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: 'Agent timeline: LLM vs tool vs idle',
    width: 620,
    height: 110,
    data: { values: rows },
    mark: { type: 'bar', height: 28 },
    encoding: {
      y: { field: 'lane', type: 'nominal', title: null, sort: ['GPU', 'tools'] },
      x: { field: 'startS', type: 'quantitative', title: 'seconds since the query arrived' },
      x2: { field: 'endS' },
      color: {
        field: 'kind',
        type: 'nominal',
        title: null,
        scale: { domain: ['LLM prefill', 'LLM decode', 'GPU idle', 'tool call'], range: ['#d62728', '#1f77b4', '#c7c7c7', '#ff7f0e'] },
      },
      tooltip: [{ field: 'kind' }, { field: 'startS', format: '.3f' }, { field: 'seconds', format: '.3f' }, { field: 'meanPowerW', format: '.0f' }],
    },
  };
  return {
    id: 'agent-timeline',
    title: 'Agent timeline (median episode)',
    caption: `${context}. Prefill ${sum('LLM prefill').toFixed(2)} s, decode ${sum('LLM decode').toFixed(2)} s, GPU idle ${sum('GPU idle').toFixed(2)} s while tools run.`,
    spec,
    data: rows,
  };
}

export interface WorkflowEnergy {
  workflow: string;
  energyWhMean: number;
  energyWhP95: number;
  latencyP50S: number;
  latencyP95S: number;
  llmCallsMean: number;
}

/** Mean GPU energy per query of each workflow (bars) with the p95 marked. */
export function workflowEnergyFigure(rows: readonly WorkflowEnergy[], context: string): Figure {
  const data: Row[] = rows.map((r) => ({ ...r }));
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: 'GPU energy per query by workflow',
    width: 520,
    height: 300,
    data: { values: data },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'workflow', type: 'nominal', sort: null, title: null, axis: { labelAngle: 0 } },
          y: { field: 'energyWhMean', type: 'quantitative', title: 'Wh per query (bar: mean, tick: p95)' },
          color: { value: '#1f77b4' },
          tooltip: [{ field: 'workflow' }, { field: 'energyWhMean', format: '.3g' }, { field: 'energyWhP95', format: '.3g' }, { field: 'latencyP50S', format: '.3g' }, { field: 'llmCallsMean', format: '.3g' }],
        },
      },
      { mark: { type: 'tick', color: '#d62728', thickness: 2 }, encoding: { x: { field: 'workflow', type: 'nominal', sort: null }, y: { field: 'energyWhP95', type: 'quantitative' } } },
      {
        mark: { type: 'text', dy: -8 },
        encoding: { x: { field: 'workflow', type: 'nominal', sort: null }, y: { field: 'energyWhMean', type: 'quantitative' }, text: { field: 'energyWhMean', type: 'quantitative', format: '.3g' } },
      },
    ],
  };
  return { id: 'workflow-energy', title: 'Energy per query per workflow', caption: context, spec, data };
}

export interface ComparePoint {
  label: string;
  gpu: string;
  tp: number;
  p95S: number;
  energyWhPerQuery: number;
  costPerMillionQueries: number | null;
  gpusNeeded: number;
  pareto: boolean;
}

/** p95 latency vs cost (priced rows) and vs energy (all rows), Pareto-front rows highlighted. */
export function compareFigures(points: readonly ComparePoint[], context: string): Figure[] {
  const rows: Row[] = points.map((p) => ({ ...p, front: p.pareto ? 'Pareto front' : 'dominated' }));
  const color = { field: 'front', type: 'nominal' as const, title: null, scale: { domain: ['Pareto front', 'dominated'], range: ['#d62728', '#9e9e9e'] } };
  const layer = (yField: string, yTitle: string) => [
    {
      mark: { type: 'point' as const, filled: true, size: 90 },
      encoding: {
        x: { field: 'p95S', type: 'quantitative' as const, title: 'p95 latency per query (s)', scale: { type: 'log' as const } },
        y: { field: yField, type: 'quantitative' as const, title: yTitle, scale: { type: 'log' as const } },
        color,
        tooltip: [{ field: 'label' }, { field: 'p95S', format: '.3g' }, { field: 'energyWhPerQuery', format: '.3g' }, { field: 'costPerMillionQueries', format: '.4g' }, { field: 'gpusNeeded' }],
      },
    },
    {
      mark: { type: 'text' as const, align: 'left' as const, dx: 7, fontSize: 10 },
      encoding: { x: { field: 'p95S', type: 'quantitative' as const }, y: { field: yField, type: 'quantitative' as const }, text: { field: 'label', type: 'nominal' as const } },
    },
  ];
  const priced = rows.filter((r) => r.costPerMillionQueries !== null);
  const out: Figure[] = [];
  if (priced.length > 0) {
    out.push({
      id: 'compare-cost',
      title: 'Hardware comparison: p95 latency vs cost',
      caption: `${context} Rows without a GPU-hour price are left out of this chart.`,
      spec: { $schema: SCHEMA, title: 'p95 latency vs cost per million queries', width: 560, height: 340, data: { values: priced }, layer: layer('costPerMillionQueries', 'USD per million queries') },
      data: priced,
    });
  }
  out.push({
    id: 'compare-energy',
    title: 'Hardware comparison: p95 latency vs energy',
    caption: `${context} Pareto front over p95 latency, energy per query and cost together.`,
    spec: { $schema: SCHEMA, title: 'p95 latency vs GPU energy per query', width: 560, height: 340, data: { values: rows }, layer: layer('energyWhPerQuery', 'Wh per query') },
    data: rows,
  });
  return out;
}

function fmtRate(v: number, unit: string): string {
  const p = ['', 'k', 'M', 'G', 'T', 'P'];
  let i = 0;
  while (v >= 1000 && i < p.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toPrecision(3)} ${p[i]}${unit}`;
}
