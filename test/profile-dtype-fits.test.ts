import { describe, expect, it } from 'vitest';
import { fitClasses, fitF16Classes, refitProfile } from '../src/calibrate/profile.js';
import { fitPeak } from '../src/profile/schema.js';
import { parseProfile, readProfile } from '../src/profile/io.js';
import type { Ceilings, Measurement, Profile } from '../src/profile/schema.js';
import { targetFromProfile, type PerfTarget } from '../src/perf/target.js';
import { createCostContext, stepCost } from '../src/perf/cost.js';
import { miniModelSpec } from '../src/kernels/transformer-config.js';
import type { StepBatch } from '../src/perf/types.js';
import { UserError } from '../src/errors.js';

const ceilings: Ceilings = {
  fmaF32FlopsPerS: 4e10,
  fmaF16FlopsPerS: 1e10,
  memoryBytesPerS: 5e9,
  cacheBytesPerS: null,
  copyBufferToBufferBytesPerS: 3e10,
  dispatchOverheadS: 2e-5,
};

/** A compute-bound point of a class running at `ratePerS` FLOP/s plus 10 us. */
function point(kernelClass: string, dtype: 'f32' | 'f16', flops: number, ratePerS: number): Measurement {
  const seconds = 1e-5 + flops / ratePerS;
  return { kernel: `${kernelClass}-${dtype}`, kernelClass, shape: { flops }, dtype, flops, bytes: flops / 1000, seconds, minSeconds: seconds, repeats: 5, relError: 1e-6, verified: true };
}

const sizes = [1e6, 1e7, 1e8, 1e9];

/** The object as a JSON file holds it (undefined fields dropped). */
const plain = (o: unknown): unknown => JSON.parse(JSON.stringify(o));

describe('f16 fits of a profile', () => {
  it('GEMM and attention f16 points are taken against the f16 peak, vector classes against the f32 one', () => {
    expect(fitPeak('gemm', 'f16', ceilings)).toBe(1e10);
    expect(fitPeak('attention-decode', 'f16', ceilings)).toBe(1e10);
    expect(fitPeak('norm', 'f16', ceilings)).toBe(4e10);
    expect(fitPeak('elementwise', 'f16', ceilings)).toBe(4e10);
    expect(fitPeak('gemm', 'f32', ceilings)).toBe(4e10);
    expect(fitPeak('gemm', 'f16', { ...ceilings, fmaF16FlopsPerS: null })).toBe(4e10);
  });

  it('fits each dtype on its own points; f16 fits only for classes measured in both', () => {
    // f32 GEMMs at 8 GFLOP/s, f16 GEMMs at 6 (the f16 FMA ceiling is 10): f16 effMax 0.6 of the f16 peak
    // norms at 2 GFLOP/s in f32 and 1 in f16: f16 effMax 0.025 of the f32 peak (the predictor's vector rate)
    const ms = [
      ...sizes.flatMap((f) => [point('gemm', 'f32', f, 8e9), point('gemm', 'f16', f, 6e9)]),
      ...sizes.flatMap((f) => [point('norm', 'f32', f, 2e9), point('norm', 'f16', f, 1e9)]),
      ...sizes.map((f) => point('sampling', 'f32', f, 1e9)),
    ];
    const f32 = fitClasses(ms, ceilings);
    const f16 = fitF16Classes(ms, ceilings);
    expect(f32.gemm.effMax).toBeCloseTo(0.2, 3);
    expect(f16.gemm.effMax).toBeCloseTo(0.6, 3);
    expect(f32.norm.effMax).toBeCloseTo(0.05, 4);
    expect(f16.norm.effMax).toBeCloseTo(0.025, 4);
    expect(f16.gemm.fixedS).toBeCloseTo(1e-5, 8);
    expect(Object.keys(f16).sort()).toEqual(['gemm', 'norm']); // sampling has no f16 points
    expect(f16.gemm.points).toBe(4);
  });

  it('refits the committed lavapipe profile: the f32 fits as stored, f16 fits where f16 was measured', () => {
    const stored = readProfile('calibration/lavapipe-llvm15-xeon-2core.json');
    const refit = refitProfile(stored);
    for (const [k, fit] of Object.entries(stored.fits)) {
      expect(refit.fits[k].effMax, k).toBeCloseTo(fit.effMax, 9);
      expect(refit.fits[k].fixedS, k).toBeCloseTo(fit.fixedS, 12);
    }
    const f16 = refit.dtypeFits?.f16 ?? {};
    for (const k of ['gemm', 'gemm-skinny', 'attention-prefill', 'attention-decode']) expect(f16[k], k).toBeDefined();
    expect(refit.measurements).toBe(stored.measurements);
    // without f16 points there is nothing to write
    const noF16 = refitProfile({ ...stored, measurements: stored.measurements.filter((m) => m.dtype === 'f32') });
    expect(noF16.dtypeFits).toBeUndefined();
  });

  it('reads profiles without dtypeFits and refuses a malformed one naming the field', () => {
    const stored = readProfile('calibration/lavapipe-llvm15-xeon-2core.json');
    const refit = refitProfile(stored);
    expect(() => parseProfile(plain({ ...refit, dtypeFits: undefined }))).not.toThrow();
    expect(parseProfile(plain(refit)).dtypeFits?.f16?.gemm.effMax).toBe(refit.dtypeFits?.f16?.gemm.effMax);
    const bad = { ...refit, dtypeFits: { f16: { gemm: { ...refit.dtypeFits!.f16!.gemm, effMax: -1 } } } };
    expect(() => parseProfile(plain(bad), 'p.json')).toThrow(UserError);
    expect(() => parseProfile(plain(bad), 'p.json')).toThrow(/p\.json.*dtypeFits\.f16\.gemm\.effMax/);
    expect(() => parseProfile(plain({ ...refit, dtypeFits: { f8: {} } }))).toThrow(/dtypeFits/);
  });
});

describe('an f16 target from a profile', () => {
  const profile: Profile = refitProfile(readProfile('calibration/lavapipe-llvm15-xeon-2core.json'));
  const f16Gemm1024 = profile.measurements.find((m) => m.kernelClass === 'gemm' && m.dtype === 'f16' && m.shape.m === 1024 && !m.shape.tuning);

  it("takes the f16 curves: the f16 GEMM rate is the measured one, not the f32 fit's on the f16 peak", () => {
    expect(f16Gemm1024).toBeDefined();
    const measuredRate = f16Gemm1024!.flops / f16Gemm1024!.seconds;
    const f16 = targetFromProfile(profile, { dtype: 'f16' });
    const f32 = targetFromProfile(profile);
    const rate = (t: typeof f16) => t.peakFlopsPerS.fp16! * (t.gemm.fp16 ?? t.gemm.default).effMax;
    // a consistency check (the 1024^3 point is one of the three the f16 fit was fitted on)
    expect(rate(f16) / measuredRate).toBeGreaterThan(0.85);
    expect(rate(f16) / measuredRate).toBeLessThan(1.15);
    // lavapipe's f16 FMA chains are emulated at 12 GFLOP/s, its f16 GEMM (f32 accumulate) is not:
    // the f32 curve on the f16 peak would cost the same GEMM at under half its speed
    expect(rate(f32) / measuredRate).toBeLessThan(0.5);
    expect(f16.attentionDecode.curve.effMax).toBe(profile.dtypeFits!.f16!['attention-decode'].effMax);
    expect(f32.attentionDecode.curve.effMax).toBe(profile.fits['attention-decode'].effMax);
    expect(f16.id).toMatch(/:f16$/);
    expect(f16.sources.join(' ')).toMatch(/f16 points/);
  });

  it('refuses f16 on a profile with no f16 points, with one line', () => {
    const { dtypeFits: _none, ...f32Only } = profile;
    expect(() => targetFromProfile(f32Only, { dtype: 'f16' })).toThrow(UserError);
    expect(() => targetFromProfile(f32Only, { dtype: 'f16' })).toThrow(/^the profile has no f16 measurements[^\n]*$/);
  });
});

describe('an fp16 model on the f16 target of the lavapipe profile', () => {
  const profile: Profile = refitProfile(readProfile('calibration/lavapipe-llvm15-xeon-2core.json'));
  const f16 = targetFromProfile(profile, { dtype: 'f16' });
  const f32 = targetFromProfile(profile);
  /** A one-layer mini model of `hidden` with 64-wide heads, four query heads per KV head. */
  const model = (hidden: number) =>
    miniModelSpec({ name: 'custom', layers: 1, hidden, heads: hidden / 64, kvHeads: hidden / 256, ffn: 2816, vocab: 8192, prompt: 1024, decode: 4 });
  const opSeconds = (target: PerfTarget, hidden: number, batch: StepBatch, op: string) => {
    const ctx = createCostContext({ model: model(hidden), target, engine: 'webgpu', weightDtype: 'fp16', kvDtype: 'fp16' });
    return stepCost(ctx, batch, { breakdown: true }).ops!.find((o) => o.op === op)!.seconds;
  };
  const measured = (kernelClass: string, shape: Record<string, number>) => {
    const ms = profile.measurements.filter(
      (m) => m.kernelClass === kernelClass && m.dtype === 'f16' && !m.shape.tuning && Object.entries(shape).every(([k, v]) => m.shape[k] === v),
    );
    expect(ms.length, `${kernelClass} ${JSON.stringify(shape)}`).toBeGreaterThan(0);
    return ms[0].seconds;
  };
  const prefill1024: StepBatch = { prefill: [{ tokens: 1024, pastTokens: 0 }], decode: [] };
  const decodeAt512: StepBatch = { prefill: [], decode: [{ pastTokens: 511 }] };
  // each operator against the f16 point of its shape (points the f16 fits were fitted on: this checks
  // that the cost model applies each f16 fit to the peak it was fitted against, not a prediction)
  const cases: { op: string; hidden: number; batch: StepBatch; cls: string; shape: Record<string, number> }[] = [
    // prefill o_proj of hidden 1024: a 1024^3 GEMM (gemm f16 fit, f16 peak)
    { op: 'o_proj', hidden: 1024, batch: prefill1024, cls: 'gemm', shape: { m: 1024, n: 1024, k: 1024 } },
    // decode o_proj of hidden 2048: a one-row 2048x2048 GEMM (gemm-skinny f16 fit)
    { op: 'o_proj', hidden: 2048, batch: decodeAt512, cls: 'gemm-skinny', shape: { m: 1, n: 2048, k: 2048 } },
    // prefill attention of 8 heads (2 KV heads) of 64 over 1024 tokens (attention-prefill f16 fit)
    { op: 'attention_prefill', hidden: 512, batch: prefill1024, cls: 'attention-prefill', shape: { seq: 1024, numHeads: 8, numKvHeads: 2, headDim: 64 } },
    // decode attention of 16 heads (4 KV heads) over 512 cached entries (attention-decode f16 fit)
    { op: 'attention_decode', hidden: 1024, batch: decodeAt512, cls: 'attention-decode', shape: { kvLen: 512, numHeads: 16, numKvHeads: 4, headDim: 64 } },
    // RMSNorm of 1024 rows of 2048 (norm f16 fit, on the f32 vector peak)
    { op: 'input_norm', hidden: 2048, batch: prefill1024, cls: 'norm', shape: { rows: 1024, hidden: 2048 } },
  ];

  it.each(cases)('$op (hidden $hidden) costs about its f16 $cls point, closer than the f32 curves do', ({ op, hidden, batch, cls, shape }) => {
    const point = measured(cls, shape);
    const t16 = opSeconds(f16, hidden, batch, op);
    const t32 = opSeconds(f32, hidden, batch, op);
    expect(t16 / point).toBeGreaterThan(0.8);
    expect(t16 / point).toBeLessThan(1.2);
    expect(Math.abs(Math.log(t16 / point))).toBeLessThan(Math.abs(Math.log(t32 / point)));
  });

  it("the f32 GEMM curve on lavapipe's emulated f16 peak costs the 1024^3 f16 GEMM over 2x too slow", () => {
    const point = measured('gemm', { m: 1024, n: 1024, k: 1024 });
    expect(opSeconds(f32, 1024, prefill1024, 'o_proj') / point).toBeGreaterThan(2);
  });
});
