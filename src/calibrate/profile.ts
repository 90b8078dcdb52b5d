/**
 * Turns suite measurements into a device profile: ceilings (FMA peaks, DRAM and cache bandwidth,
 * copyBufferToBuffer, dispatch overhead), per-class efficiency fits and the series reports plot.
 */
import os from 'node:os';
import type { AdapterReport, ToggleSet } from '../gpu/device.js';
import { PROFILE_SCHEMA_ID, fitPeak, type Ceilings, type Fit, type Measurement, type Profile } from '../profile/schema.js';
import { causalPairs, causalTileOfVariant, type CausalTile } from '../profile/causal.js';
import { fitBandwidth, fitDispatchOverhead, fitRooflineClass, type BandwidthPoint } from './fit.js';

/** Classes that define ceilings rather than get an efficiency curve. */
const CEILING_ONLY = new Set(['dispatch', 'copy-buffer-to-buffer']);

function rate(m: Measurement, what: 'flops' | 'bytes'): number {
  return m[what] / m.seconds;
}

function bandwidthPoints(ms: Measurement[]): BandwidthPoint[] {
  return ms.map((m) => ({ workingSetBytes: Number(m.shape.workingSetBytes ?? m.bytes), bytesPerS: rate(m, 'bytes') }));
}

/** Stream measurements of the sweep (tuning runs of other variants are left out of the curve). */
function sweep(ms: Measurement[], kernel: string, variant?: string): Measurement[] {
  return ms.filter((m) => m.kernel === kernel && (variant === undefined || m.variant === variant));
}

/** The variant the sweep used: the one with most stream-read measurements. */
function sweepVariant(ms: Measurement[]): string | undefined {
  const counts = new Map<string, number>();
  for (const m of ms) if (m.kernel === 'stream-read' && m.variant && !m.shape.tuning) counts.set(m.variant, (counts.get(m.variant) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/**
 * The highest rate of a set of medians, where a lone median more than 25% above every other is a
 * timing outlier (seen on lavapipe: one mixbench median of 71 GFLOP/s beside a 42-49 plateau that
 * repeated runs reproduce) and the next one is taken instead.
 */
export function robustMax(rates: number[]): number {
  const s = rates.filter((r) => r > 0).sort((a, b) => b - a);
  if (s.length === 0) return 0;
  return s.length >= 3 && s[0] > 1.25 * s[1] ? s[1] : s[0];
}

export function computeCeilings(ms: Measurement[]): Ceilings {
  const rates = (kernel: string, what: 'flops' | 'bytes') => ms.filter((m) => m.kernel === kernel).map((m) => rate(m, what));
  if (!ms.some((m) => m.kernel === 'fma-f32')) throw new Error('no verified f32 FMA measurement: cannot set the compute ceiling');
  // mixbench runs the same FMA chains: its compute-bound end counts towards the peak as well
  const fmaF32FlopsPerS = robustMax([...rates('fma-f32', 'flops'), ...rates('mixbench-f32', 'flops')]);
  const fmaF16 = robustMax([...rates('fma-f16', 'flops'), ...rates('mixbench-f16', 'flops')]);
  const variant = sweepVariant(ms);
  const streams = ms.filter(
    (m) => m.kernelClass === 'stream' && m.kernel !== 'copy-buffer-to-buffer' && !m.shape.tuning && (!variant || m.variant === variant),
  );
  if (streams.length === 0) throw new Error('no verified stream measurement: cannot set the memory ceiling');
  const bw = fitBandwidth(bandwidthPoints(streams));
  const b2b = sweep(ms, 'copy-buffer-to-buffer');
  if (b2b.length === 0) throw new Error('no verified copyBufferToBuffer measurement');
  const dispatch = sweep(ms, 'dispatch-empty');
  if (dispatch.length === 0) throw new Error('no verified dispatch measurement');
  return {
    fmaF32FlopsPerS,
    fmaF16FlopsPerS: fmaF16 > 0 ? fmaF16 : null,
    memoryBytesPerS: bw.memoryBytesPerS,
    cacheBytesPerS: bw.cacheBytesPerS,
    copyBufferToBufferBytesPerS: fitBandwidth(bandwidthPoints(b2b)).memoryBytesPerS,
    dispatchOverheadS: fitDispatchOverhead(dispatch.map((m) => ({ dispatches: Number(m.shape.dispatches ?? 1), seconds: m.seconds }))),
    cacheBytes: bw.cacheBytes,
  };
}

/** The points a class's efficiency curve is fitted on: no ceiling-only classes, no tuning runs. */
function fittable(m: Measurement): boolean {
  const k = m.kernelClass ?? m.kernel;
  // tuning runs of variants not kept would drag the class's curve down
  return !CEILING_ONLY.has(k) && m.kernel !== 'copy-buffer-to-buffer' && !m.shape.tuning;
}

function fitGroups(classes: Map<string, Measurement[]>, c: Ceilings): Record<string, Fit> {
  const fits: Record<string, Fit> = {};
  for (const [k, points] of classes) {
    const tile = k === 'attention-prefill' ? prefillTile(points) : null;
    const fit = fitRooflineClass(
      k,
      points.map((m) => {
        const flops = tile ? tiledPrefillFlops(m, tile) : m.flops;
        return { flops, bytes: m.bytes, computeRoofS: flops / fitPeak(k, m.dtype, c), memoryRoofS: m.bytes / c.memoryBytesPerS, seconds: m.seconds };
      }),
    );
    fits[k] = tile ? { ...fit, causalTile: tile } : fit;
  }
  return fits;
}

function groupByClass(ms: Measurement[], keep: (m: Measurement, k: string) => boolean): Map<string, Measurement[]> {
  const classes = new Map<string, Measurement[]>();
  for (const m of ms) {
    const k = m.kernelClass ?? m.kernel;
    if (fittable(m) && keep(m, k)) classes.set(k, [...(classes.get(k) ?? []), m]);
  }
  return classes;
}

/**
 * One saturating fit per kernel class, on its f32 points: pooling f16 points (whose ceiling
 * differs, often several-fold on adapters that emulate f16) would give an efficiency that is right
 * for neither; they get fits of their own (fitF16Classes). Each class gets the efficiency of the
 * roof that binds it, or of both roofs where its shapes span both (fit.ts fitRooflineClass).
 * Classes measured only in f16 fit their f16 points.
 */
function classesWithF32(ms: Measurement[]): Set<string> {
  return new Set(ms.filter((m) => m.dtype === 'f32').map((m) => m.kernelClass ?? m.kernel));
}

export function fitClasses(ms: Measurement[], c: Ceilings): Record<string, Fit> {
  const hasF32 = classesWithF32(ms);
  return fitGroups(groupByClass(ms, (m, k) => m.dtype === 'f32' || !hasF32.has(k)), c);
}

/** The f16 fits of the classes measured in both dtypes (the profile's `dtypeFits.f16`). */
export function fitF16Classes(ms: Measurement[], c: Ceilings): Record<string, Fit> {
  const hasF32 = classesWithF32(ms);
  return fitGroups(groupByClass(ms, (m, k) => m.dtype === 'f16' && hasF32.has(k)), c);
}

/** `dtypeFits` for a profile: present only where some class was measured in f16 as well. */
function dtypeFitsOf(ms: Measurement[], c: Ceilings): Pick<Profile, 'dtypeFits'> {
  const f16 = fitF16Classes(ms, c);
  return Object.keys(f16).length ? { dtypeFits: { f16 } } : {};
}

/**
 * The profile with its fits and series recomputed from its stored measurements and ceilings (the
 * fits of this version; no GPU work): for a profile written before a change to the fits.
 */
export function refitProfile(profile: Profile): Profile {
  const { dtypeFits: _old, ...rest } = profile;
  return {
    ...rest,
    fits: fitClasses(profile.measurements, profile.ceilings),
    ...dtypeFitsOf(profile.measurements, profile.ceilings),
    series: buildSeries(profile.measurements),
  };
}

/** The tile of the prefill kernel the class's points all ran; null for mixed or untiled variants. */
function prefillTile(points: Measurement[]): CausalTile | null {
  const variant = points[0]?.variant;
  // a class of mixed tiles has no one tile to count: its points keep the exact causal work
  return points.every((m) => m.variant === variant) ? causalTileOfVariant(variant) : null;
}

/** A causal prefill measurement's FLOPs scaled to the pairs its tiled kernel computes. */
function tiledPrefillFlops(m: Measurement, tile: CausalTile): number {
  const seq = Number(m.shape.seq);
  if (!(seq > 0)) return m.flops;
  return (m.flops * causalPairs(seq, 0, Infinity, tile)) / causalPairs(seq, 0, Infinity);
}

/** Series for reports: bandwidth per op against working set, the mixbench roofline, variants tried. */
export function buildSeries(ms: Measurement[]): Record<string, unknown> {
  const variant = sweepVariant(ms);
  const bandwidth: Record<string, BandwidthPoint[]> = {};
  for (const m of ms) {
    const isCopy = m.kernel === 'copy-buffer-to-buffer';
    if ((m.kernelClass !== 'stream' && !isCopy) || m.shape.tuning) continue;
    if (!isCopy && variant && m.variant !== variant) continue;
    (bandwidth[m.kernel] ??= []).push(bandwidthPoints([m])[0]);
  }
  for (const list of Object.values(bandwidth)) list.sort((a, b) => a.workingSetBytes - b.workingSetBytes);
  const mixbench = ms
    .filter((m) => m.kernelClass === 'mixbench')
    .map((m) => ({ dtype: m.dtype, intensity: m.flops / m.bytes, flopsPerS: rate(m, 'flops'), bytesPerS: rate(m, 'bytes') }))
    .sort((a, b) => a.intensity - b.intensity);
  const tuned = ms
    .filter((m) => m.kernel === 'stream-copy' && m.variant && m.shape.tuning)
    .map((m) => ({ variant: m.variant, bytesPerS: m.bytes / m.minSeconds }));
  // Stream copy against copyBufferToBuffer at each working set both measured.
  const copy = new Map((bandwidth['stream-copy'] ?? []).map((p) => [p.workingSetBytes, p.bytesPerS]));
  const copyVsB2b = (bandwidth['copy-buffer-to-buffer'] ?? [])
    .filter((p) => copy.has(p.workingSetBytes))
    .map((p) => ({ workingSetBytes: p.workingSetBytes, ratio: copy.get(p.workingSetBytes)! / p.bytesPerS }));
  return { bandwidth, mixbench, streamVariants: tuned, streamVariant: variant ?? null, copyVsCopyBufferToBuffer: copyVsB2b };
}

/**
 * The machine a calibration ran on. For a CPU adapter (lavapipe) the host CPU is the GPU: a
 * profile measured on one CPU model does not describe another, whatever the adapter's name says.
 */
export function hostInfo(): { platform: string; arch: string; node: string; cpu: string; cpus: number } {
  const cpus = os.cpus();
  return { platform: process.platform, arch: process.arch, node: process.version, cpu: cpus[0]?.model.trim() ?? 'unknown', cpus: cpus.length };
}

/** The host CPU a profile records (run.host.cpu), null for profiles written before it was recorded. */
export function profileHostCpu(profile: Pick<Profile, 'run'>): string | null {
  const host = profile.run?.host;
  const cpu = host && typeof host === 'object' ? (host as Record<string, unknown>).cpu : undefined;
  return typeof cpu === 'string' ? cpu : null;
}

export interface ProfileRunInfo {
  mode: string;
  version: string;
  elapsedS: number;
  failures: { id: string; error: string }[];
  [key: string]: unknown;
}

export function buildProfile(
  report: AdapterReport,
  toggles: ToggleSet,
  timing: Profile['timing'],
  measurements: Measurement[],
  run: ProfileRunInfo,
  createdAt = new Date().toISOString(),
): Profile {
  const ceilings = computeCeilings(measurements);
  return {
    schema: PROFILE_SCHEMA_ID,
    device: {
      vendor: report.vendor,
      architecture: report.architecture,
      description: report.description,
      backend: report.backend,
      ...(report.driver ? { driver: report.driver } : {}),
      ...(report.cpuThreads ? { cpuThreads: report.cpuThreads } : {}),
      features: report.features,
      subgroupMinSize: report.subgroupMinSize,
      subgroupMaxSize: report.subgroupMaxSize,
      subgroupMatrixConfigs: report.subgroupMatrixConfigs,
      limits: report.limits,
    },
    toggles,
    timing,
    createdAt,
    run,
    ceilings,
    measurements,
    fits: fitClasses(measurements, ceilings),
    ...dtypeFitsOf(measurements, ceilings),
    series: buildSeries(measurements),
  };
}
