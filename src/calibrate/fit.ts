/**
 * Fits on measurements (no GPU here, so the fits are testable on synthetic data): bandwidth
 * plateaus against working-set size, dispatch overhead, and the per-kernel-class saturating
 * efficiency model of src/profile/schema.ts (time = fixedS + rooflineS / effMax).
 */
import { lusolve, matrix, multiply, transpose } from 'mathjs';
import type { Fit } from '../profile/schema.js';

/** Median of the values (NaN for none). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/** Weighted linear least squares: minimises sum (w_i (A_i x - y_i))^2 with mathjs. */
export function weightedLeastSquares(rows: number[][], y: number[], weights: number[] = y.map(() => 1)): number[] {
  const a = matrix(rows.map((r, i) => r.map((v) => v * weights[i])));
  const b = matrix(y.map((v, i) => [v * weights[i]]));
  const at = transpose(a);
  const solution = lusolve(multiply(at, a), multiply(at, b));
  return (solution.valueOf() as number[][]).map((r) => r[0]);
}

export interface BandwidthPoint {
  workingSetBytes: number;
  bytesPerS: number;
}

export interface BandwidthFit {
  /** plateau past the caches: median of the points at or above a quarter of the largest set */
  memoryBytesPerS: number;
  /** plateau on cache-resident sets, when it stands clearly above the DRAM one */
  cacheBytesPerS: number | null;
  /** working set where bandwidth falls halfway (geometrically) from cache to DRAM plateau */
  cacheBytes: number | null;
}

/** A cache plateau counts only when it is this much faster than DRAM (noise on shared machines). */
export const CACHE_PLATEAU_MIN_RATIO = 1.25;

/**
 * Bandwidth against working-set size, best op per size. The DRAM plateau comes from the largest sets;
 * the cache plateau from the points within 20% of the peak; the cache size is where the curve,
 * after the peak, crosses the geometric midpoint of the two plateaus (log-log interpolation).
 */
export function fitBandwidth(points: BandwidthPoint[]): BandwidthFit {
  if (points.length === 0) throw new Error('no bandwidth points to fit');
  const bySize = new Map<number, number>();
  for (const p of points) bySize.set(p.workingSetBytes, Math.max(bySize.get(p.workingSetBytes) ?? 0, p.bytesPerS));
  const curve = [...bySize.entries()].sort((a, b) => a[0] - b[0]);
  const largest = curve[curve.length - 1][0];
  const tail = curve.filter(([ws]) => ws >= largest / 4).map(([, bw]) => bw);
  const memoryBytesPerS = median(tail);
  let peakIndex = 0;
  curve.forEach(([, bw], i) => (bw > curve[peakIndex][1] ? (peakIndex = i) : 0));
  const peak = curve[peakIndex][1];
  if (peak < CACHE_PLATEAU_MIN_RATIO * memoryBytesPerS || curve[peakIndex][0] >= largest / 4) {
    return { memoryBytesPerS, cacheBytesPerS: null, cacheBytes: null };
  }
  const mid = Math.sqrt(peak * memoryBytesPerS);
  let last = peakIndex;
  while (last + 1 < curve.length && curve[last + 1][1] >= mid) last++;
  // the plateau: points within 20% of the peak (smaller sets still pay the launch cost)
  const high = curve.slice(0, last + 1).filter(([, bw]) => bw >= 0.8 * peak).map(([, bw]) => bw);
  let cacheBytes: number | null = null;
  if (last + 1 < curve.length) {
    const [x0, y0] = curve[last];
    const [x1, y1] = curve[last + 1];
    const f = Math.log(y0 / mid) / Math.log(y0 / y1);
    cacheBytes = Math.exp(Math.log(x0) + f * (Math.log(x1) - Math.log(x0)));
  }
  return { memoryBytesPerS, cacheBytesPerS: median(high), cacheBytes };
}

/** Cost of one more dispatch: slope of time over dispatch count (time itself over count for one point). */
export function fitDispatchOverhead(points: { dispatches: number; seconds: number }[]): number {
  if (points.length === 0) throw new Error('no dispatch points to fit');
  const counts = new Set(points.map((p) => p.dispatches));
  if (counts.size < 2) return median(points.map((p) => p.seconds / p.dispatches));
  // relative weights: every point counts alike whatever its length
  const [, slope] = weightedLeastSquares(points.map((p) => [1, p.dispatches]), points.map((p) => p.seconds), points.map((p) => 1 / p.seconds));
  return slope > 0 ? slope : median(points.map((p) => p.seconds / p.dispatches));
}

export interface FitPoint {
  /** the kernel's work in the fit's unit (flops or bytes) */
  work: number;
  /** roofline time of the kernel on the profile's ceilings */
  rooflineS: number;
  /** measured time */
  seconds: number;
}

/**
 * Fits time = fixedS + rooflineS / effMax by least squares on relative error (weights 1/time), with
 * fixedS >= 0. halfWork is the work where efficiency reaches half of effMax: fixedS * effMax * peak,
 * with peak = work / rooflineS (median over the points).
 */
export function fitSaturating(kernelClass: string, workUnit: 'flops' | 'bytes', points: FitPoint[]): Fit {
  const usable = points.filter((p) => p.seconds > 0 && p.rooflineS > 0 && p.work > 0);
  if (usable.length === 0) throw new Error(`no points to fit for ${kernelClass}`);
  const t = usable.map((p) => p.seconds);
  const w = t.map((s) => 1 / s);
  let fixedS = 0;
  let invEff: number;
  if (usable.length >= 2 && new Set(usable.map((p) => p.rooflineS)).size >= 2) {
    [fixedS, invEff] = weightedLeastSquares(usable.map((p) => [1, p.rooflineS]), t, w);
  } else {
    invEff = NaN;
  }
  if (!(fixedS >= 0) || !(invEff > 0)) {
    // no fixed cost: one-parameter fit t = r * invEff, weighted the same way
    fixedS = 0;
    let num = 0;
    let den = 0;
    usable.forEach((p, i) => {
      num += p.rooflineS * t[i] * w[i] * w[i];
      den += p.rooflineS * p.rooflineS * w[i] * w[i];
    });
    invEff = num / den;
  }
  const effMax = 1 / invEff;
  const peak = median(usable.map((p) => p.work / p.rooflineS));
  let sq = 0;
  for (const p of usable) sq += ((fixedS + p.rooflineS * invEff - p.seconds) / p.seconds) ** 2;
  return {
    kernelClass,
    model: 'saturating',
    workUnit,
    effMax,
    halfWork: fixedS * effMax * peak,
    fixedS,
    points: usable.length,
    rmsRelError: Math.sqrt(sq / usable.length),
  };
}

export interface RooflinePoint {
  flops: number;
  bytes: number;
  /** roofline time of each side alone: flops / peak and bytes / bandwidth */
  computeRoofS: number;
  memoryRoofS: number;
  seconds: number;
}

interface TwoSided {
  invEffCompute: number;
  invEffMemory: number;
  fixedS: number;
  rms: number;
}

/** The fixed time minimising the relative error for given per-point variable times (>= 0). */
function bestFixed(points: RooflinePoint[], variable: number[]): number {
  let num = 0;
  let den = 0;
  points.forEach((p, i) => {
    const w = 1 / (p.seconds * p.seconds);
    num += (p.seconds - variable[i]) * w;
    den += w;
  });
  return Math.max(0, num / den);
}

function evaluate(points: RooflinePoint[], ic: number, im: number): TwoSided {
  const variable = points.map((p) => Math.max(p.computeRoofS * ic, p.memoryRoofS * im));
  const fixedS = bestFixed(points, variable);
  let sq = 0;
  points.forEach((p, i) => (sq += ((fixedS + variable[i] - p.seconds) / p.seconds) ** 2));
  return { invEffCompute: ic, invEffMemory: im, fixedS, rms: Math.sqrt(sq / points.length) };
}

/**
 * Searches time = fixedS + max(computeRoofS / effCompute, memoryRoofS / effMemory) on a log grid
 * of both inverse efficiencies, refined around the best cell (relative error, fixedS >= 0 in
 * closed form). The grid spans from each side's largest possible value (the side alone explains
 * the slowest point) down to 1e-4 of it, where that side no longer binds any point.
 */
function searchTwoSided(points: RooflinePoint[]): TwoSided {
  const hiC = Math.max(...points.map((p) => p.seconds / p.computeRoofS));
  const hiM = Math.max(...points.map((p) => p.seconds / p.memoryRoofS));
  let lo = [Math.log(hiC) - Math.log(1e4), Math.log(hiM) - Math.log(1e4)];
  let hi = [Math.log(hiC), Math.log(hiM)];
  let best = evaluate(points, hiC, hiM);
  const steps = 40;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i <= steps; i++) {
      const ic = Math.exp(lo[0] + ((hi[0] - lo[0]) * i) / steps);
      for (let j = 0; j <= steps; j++) {
        const e = evaluate(points, ic, Math.exp(lo[1] + ((hi[1] - lo[1]) * j) / steps));
        if (e.rms < best.rms) best = e;
      }
    }
    const span = [(hi[0] - lo[0]) / steps, (hi[1] - lo[1]) / steps];
    const c = [Math.log(best.invEffCompute), Math.log(best.invEffMemory)];
    lo = [c[0] - 2 * span[0], c[1] - 2 * span[1]];
    hi = [c[0] + 2 * span[0], c[1] + 2 * span[1]];
  }
  return best;
}

/**
 * The class's efficiency on both roofs at once, for classes whose points are bound by compute at
 * some shapes and by memory at others (skinny GEMMs: M = 1 streams the weights, M = 64 computes).
 * Returns the one-sided fit (in the unit that binds most points) when the two-sided model binds
 * fewer than two points on either side or does not lower the error by a tenth and one point: a second
 * efficiency is then not supported by the data.
 */
export function fitRooflineClass(kernelClass: string, points: RooflinePoint[]): Fit {
  const usable = points.filter((p) => p.seconds > 0 && (p.computeRoofS > 0 || p.memoryRoofS > 0));
  if (usable.length === 0) throw new Error(`no points to fit for ${kernelClass}`);
  const computeBound = usable.filter((p) => p.computeRoofS >= p.memoryRoofS).length;
  const unit: 'flops' | 'bytes' = computeBound * 2 >= usable.length ? 'flops' : 'bytes';
  const oneSided = (u: 'flops' | 'bytes') =>
    fitSaturating(
      kernelClass,
      u,
      usable.map((p) => ({ work: p[u], rooflineS: u === 'flops' ? p.computeRoofS : p.memoryRoofS, seconds: p.seconds })),
    );
  const canTwo = usable.length >= 4 && usable.every((p) => p.computeRoofS > 0 && p.memoryRoofS > 0);
  // one-sided: the unit the bare roofline says binds, unless the other explains the points clearly better
  let single = oneSided(unit);
  if (canTwo) {
    const other = oneSided(unit === 'flops' ? 'bytes' : 'flops');
    if (other.rmsRelError < 0.9 * single.rmsRelError && single.rmsRelError - other.rmsRelError >= 0.01) single = other;
  }
  if (!canTwo) return single;
  const two = searchTwoSided(usable);
  const bindsCompute = usable.filter((p) => p.computeRoofS * two.invEffCompute >= p.memoryRoofS * two.invEffMemory).length;
  const bindsMemory = usable.length - bindsCompute;
  if (bindsCompute < 2 || bindsMemory < 2 || two.rms > 0.9 * single.rmsRelError || single.rmsRelError - two.rms < 0.01) return single;
  const peakC = median(usable.map((p) => p.flops / p.computeRoofS));
  const peakM = median(usable.map((p) => p.bytes / p.memoryRoofS));
  const sides = {
    flops: { effMax: 1 / two.invEffCompute, halfWork: (two.fixedS * peakC) / two.invEffCompute },
    bytes: { effMax: 1 / two.invEffMemory, halfWork: (two.fixedS * peakM) / two.invEffMemory },
  };
  const primary: 'flops' | 'bytes' = bindsCompute >= bindsMemory ? 'flops' : 'bytes';
  const other = primary === 'flops' ? 'bytes' : 'flops';
  return {
    kernelClass,
    model: 'saturating',
    workUnit: primary,
    effMax: sides[primary].effMax,
    halfWork: sides[primary].halfWork,
    fixedS: two.fixedS,
    points: usable.length,
    rmsRelError: two.rms,
    secondary: { workUnit: other, effMax: sides[other].effMax, halfWork: sides[other].halfWork },
  };
}
