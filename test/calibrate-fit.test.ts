import { describe, expect, it } from 'vitest';
import { fitBandwidth, fitDispatchOverhead, fitRooflineClass, fitSaturating, weightedLeastSquares } from '../src/calibrate/fit.js';
import { mulberry32 } from '../src/kernels/verify.js';
import { fitClasses, robustMax } from '../src/calibrate/profile.js';

describe('least squares', () => {
  it('recovers a line exactly', () => {
    const x = [1, 2, 3, 4, 5];
    const [c, m] = weightedLeastSquares(x.map((v) => [1, v]), x.map((v) => 3 + 2 * v));
    expect(c).toBeCloseTo(3, 10);
    expect(m).toBeCloseTo(2, 10);
  });
});

describe('saturating efficiency fit', () => {
  const peak = 30e9; // flop/s
  const truth = { effMax: 0.6, fixedS: 20e-6 };
  const works = [1e5, 1e6, 1e7, 1e8, 1e9];
  const synth = (noise: number, seed = 1) => {
    const rng = mulberry32(seed);
    return works.map((work) => {
      const rooflineS = work / peak;
      const t = truth.fixedS + rooflineS / truth.effMax;
      return { work, rooflineS, seconds: t * (1 + noise * (rng() - 0.5)) };
    });
  };

  it('recovers effMax, fixedS and halfWork from exact data', () => {
    const fit = fitSaturating('gemm', 'flops', synth(0));
    expect(fit.effMax).toBeCloseTo(truth.effMax, 6);
    expect(fit.fixedS / truth.fixedS).toBeCloseTo(1, 6);
    // efficiency is half of effMax where work / peak / effMax = fixedS
    expect(fit.halfWork / (truth.fixedS * truth.effMax * peak)).toBeCloseTo(1, 6);
    expect(fit.rmsRelError).toBeLessThan(1e-9);
    expect(fit.points).toBe(5);
  });

  it('stays close under 5% noise', () => {
    const fit = fitSaturating('gemm', 'flops', synth(0.05, 7));
    expect(Math.abs(fit.effMax / truth.effMax - 1)).toBeLessThan(0.08);
    expect(Math.abs(fit.fixedS / truth.fixedS - 1)).toBeLessThan(0.3);
    expect(fit.rmsRelError).toBeGreaterThan(0);
    expect(fit.rmsRelError).toBeLessThan(0.05);
  });

  it('falls back to fixedS = 0 when the data say so, and handles one point', () => {
    const pts = works.map((work) => ({ work, rooflineS: work / peak, seconds: work / peak / 0.5 }));
    const fit = fitSaturating('stream', 'bytes', pts);
    expect(fit.fixedS).toBe(0);
    expect(fit.effMax).toBeCloseTo(0.5, 8);
    const one = fitSaturating('fma', 'flops', [pts[2]]);
    expect(one.effMax).toBeCloseTo(0.5, 8);
    expect(() => fitSaturating('x', 'flops', [])).toThrow(/no points/);
  });
});

describe('two-roof class fit', () => {
  const peak = 40e9;
  const bw = 5e9;
  // skinny GEMMs: n = k = 2048, m = 1..64; bytes ~ weights, flops ~ m
  const shapes = [1, 2, 4, 8, 16, 32, 64].map((m) => ({ flops: 2 * m * 2048 * 2048, bytes: 4 * (2048 * 2048 + 2 * m * 2048) }));
  const truth = { effC: 0.2, effM: 0.8, fixedS: 30e-6 };
  const points = (noise: number, seed = 3) => {
    const rng = mulberry32(seed);
    return shapes.map((s) => {
      const computeRoofS = s.flops / peak;
      const memoryRoofS = s.bytes / bw;
      const t = truth.fixedS + Math.max(computeRoofS / truth.effC, memoryRoofS / truth.effM);
      return { ...s, computeRoofS, memoryRoofS, seconds: t * (1 + noise * (rng() - 0.5)) };
    });
  };
  it('recovers both efficiencies and the fixed time where the shapes span both roofs', () => {
    const fit = fitRooflineClass('gemm-skinny', points(0));
    expect(fit.secondary).toBeDefined();
    const eff = { [fit.workUnit]: fit.effMax, [fit.secondary!.workUnit]: fit.secondary!.effMax };
    expect(eff.flops / truth.effC).toBeCloseTo(1, 2);
    expect(eff.bytes / truth.effM).toBeCloseTo(1, 2);
    expect(fit.fixedS / truth.fixedS).toBeCloseTo(1, 1);
    expect(fit.rmsRelError).toBeLessThan(0.01);
    const noisy = fitRooflineClass('gemm-skinny', points(0.05));
    expect(noisy.rmsRelError).toBeLessThan(0.05);
  });
  it('stays one-sided when one roof explains every point', () => {
    // decode GEMVs of several widths: memory-bound by the bare roofline too
    const gemv = [256, 512, 1024, 2048, 4096].map((n) => ({ flops: 2 * n * n, bytes: 4 * (n * n + 2 * n) }));
    const oneRoof = gemv.map((s) => {
      const memoryRoofS = s.bytes / bw;
      return { ...s, computeRoofS: s.flops / peak, memoryRoofS, seconds: truth.fixedS + memoryRoofS / truth.effM };
    });
    const fit = fitRooflineClass('gemv', oneRoof);
    expect(fit.secondary).toBeUndefined();
    expect(fit.workUnit).toBe('bytes');
    expect(fit.effMax).toBeCloseTo(truth.effM, 6);
    expect(() => fitRooflineClass('x', [])).toThrow(/no points/);
  });
});

describe('compute ceiling', () => {
  it('takes the highest median unless one lone median stands 25% above every other', () => {
    expect(robustMax([42, 47, 48.5, 71.4, 3])).toBe(48.5);
    expect(robustMax([42, 47, 48.5, 55])).toBe(55);
    // two points cannot tell an outlier from a plateau
    expect(robustMax([10, 30])).toBe(30);
    expect(robustMax([])).toBe(0);
  });
});

describe('bandwidth plateaus', () => {
  const cacheBw = 40e9;
  const dramBw = 10e9;
  const cacheBytes = 32 * 2 ** 20;
  const overheadS = 20e-6;
  const sizes = [2 ** 16, 2 ** 18, 2 ** 20, 2 ** 22, 2 ** 24, 2 ** 26, 2 ** 28, 2 ** 29];
  const curve = sizes.map((ws) => ({
    workingSetBytes: ws,
    // a fixed launch cost on small sets, then the cache or the DRAM rate
    bytesPerS: ws / (overheadS + ws / (ws <= cacheBytes ? cacheBw : dramBw)),
  }));

  it('finds the DRAM plateau, the cache plateau and where it falls', () => {
    const fit = fitBandwidth(curve);
    expect(fit.memoryBytesPerS / dramBw).toBeCloseTo(1, 1);
    expect(fit.cacheBytesPerS! / cacheBw).toBeGreaterThan(0.85);
    expect(fit.cacheBytesPerS! / cacheBw).toBeLessThan(1.01);
    expect(fit.cacheBytes!).toBeGreaterThan(2 ** 24);
    expect(fit.cacheBytes!).toBeLessThan(2 ** 26);
  });

  it('reports no cache plateau on a flat curve', () => {
    const flat = sizes.map((ws) => ({ workingSetBytes: ws, bytesPerS: dramBw * (1 + 0.01 * Math.sin(ws)) }));
    const fit = fitBandwidth(flat);
    expect(fit.cacheBytesPerS).toBeNull();
    expect(fit.cacheBytes).toBeNull();
    expect(fit.memoryBytesPerS / dramBw).toBeCloseTo(1, 1);
  });

  it('keeps the best op per working set', () => {
    const fit = fitBandwidth([
      { workingSetBytes: 1e9, bytesPerS: 5e9 },
      { workingSetBytes: 1e9, bytesPerS: 8e9 },
    ]);
    expect(fit.memoryBytesPerS).toBe(8e9);
  });
});

describe('dispatch overhead', () => {
  it('takes the slope over dispatch counts', () => {
    const pts = [1, 4, 16, 64].map((d) => ({ dispatches: d, seconds: 5e-6 + d * 12e-6 }));
    expect(fitDispatchOverhead(pts) / 12e-6).toBeCloseTo(1, 6);
  });
  it('divides by the count for a single count', () => {
    expect(fitDispatchOverhead([{ dispatches: 4, seconds: 40e-6 }])).toBeCloseTo(10e-6, 12);
  });
});

describe('per-class fits of a profile', () => {
  it('fit a class on its f32 points, not pooled with f16 points of another ceiling', () => {
    const ceilings = {
      fmaF32FlopsPerS: 4e10, fmaF16FlopsPerS: 1e10, memoryBytesPerS: 5e9, cacheBytesPerS: null,
      copyBufferToBufferBytesPerS: 3e10, dispatchOverheadS: 2e-5,
    };
    // f32 GEMMs at 20% of the f32 ceiling, f16 GEMMs at 80% of the (4x lower) f16 ceiling
    const point = (dtype: 'f32' | 'f16', n: number, eff: number) => {
      const flops = 2 * n ** 3;
      const peak = dtype === 'f32' ? 4e10 : 1e10;
      return { kernel: `gemm-${dtype}`, kernelClass: 'gemm', shape: { m: n, n, k: n }, dtype, flops, bytes: 12 * n * n,
        seconds: flops / (peak * eff), minSeconds: flops / (peak * eff), repeats: 5, relError: 1e-6, verified: true as const };
    };
    const ms = [256, 512, 1024, 2048].flatMap((n) => [point('f32', n, 0.2), point('f16', n, 0.8)]);
    const fits = fitClasses(ms, ceilings);
    expect(fits.gemm.effMax).toBeCloseTo(0.2, 2);
    expect(fits.gemm.points).toBe(4);
    // a class measured only in f16 still gets a fit
    const onlyF16 = fitClasses(ms.filter((m) => m.dtype === 'f16'), ceilings);
    expect(onlyF16.gemm.effMax).toBeCloseTo(0.8, 2);
  });
});
