import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getModel } from '../src/models/index.js';
import type { ModelSpec } from '../src/models/types.js';
import { PROFILE_SCHEMA_ID, type Profile } from '../src/profile/schema.js';
import { resolveTarget, targetFromProfile } from '../src/perf/target.js';
import { createCostContext, prefillPairs, stepCost } from '../src/perf/cost.js';
import { memoryPlan, kvBytesForBatch } from '../src/perf/memory.js';
import { getEngine } from '../src/perf/engines.js';
import { predict } from '../src/perf/predict.js';
import { UserError } from '../src/errors.js';
import type { Workload } from '../src/perf/types.js';

/** A small but schema-valid calibrated profile (numbers of a software rasteriser's order). */
function profile(over: Partial<Profile['ceilings']> = {}, withFits = true): Profile {
  return {
    schema: PROFILE_SCHEMA_ID,
    device: {
      vendor: 'mesa', architecture: 'llvmpipe', description: 'test adapter', backend: 'vulkan', features: [],
      subgroupMatrixConfigs: [], limits: { maxBufferSize: 2 ** 31 },
    },
    toggles: 'throughput',
    timing: 'timestamp-query',
    createdAt: '2026-11-25T00:00:00Z',
    ceilings: {
      fmaF32FlopsPerS: 2e11, fmaF16FlopsPerS: null, memoryBytesPerS: 2e10, cacheBytesPerS: null,
      copyBufferToBufferBytesPerS: 1e10, dispatchOverheadS: 20e-6, ...over,
    },
    measurements: [],
    fits: withFits
      ? {
          gemm: { kernelClass: 'gemm', model: 'saturating', workUnit: 'flops', effMax: 0.5, halfWork: 1e8, fixedS: 1e-3, points: 5, rmsRelError: 0.05 },
          'attention-decode': { kernelClass: 'attention-decode', model: 'saturating', workUnit: 'bytes', effMax: 0.6, halfWork: 1e6, fixedS: 1e6 / (2e10 * 0.6), points: 5, rmsRelError: 0.05 },
          stream: { kernelClass: 'stream', model: 'saturating', workUnit: 'bytes', effMax: 0.9, halfWork: 0, fixedS: 10e-6, points: 5, rmsRelError: 0.05 },
        }
      : {},
  };
}

const small = getModel('llama-3.2-1b');
const w = (over: Partial<Workload> = {}): Workload => ({ batch: 1, inputTokens: 64, outputTokens: 16, weightDtype: 'bf16', kvDtype: 'bf16', ...over });

describe('targetFromProfile', () => {
  it('maps ceilings and fits to the target', () => {
    const t = targetFromProfile(profile());
    expect(t.kind).toBe('profile');
    // no f16 ceiling: 16-bit formats fall back to the f32 FMA rate
    expect(t.peakFlopsPerS.bf16).toBe(2e11);
    expect(targetFromProfile(profile({ fmaF16FlopsPerS: 4e11 })).peakFlopsPerS.fp16).toBe(4e11);
    // the fit's fixed time (1 ms = 1e8 FLOPs of ramp at 2e11 x 0.5) holds one dispatch (20 us),
    // which the cost model adds per kernel itself: halfWork 1e8 - 20e-6 x 2e11 x 0.5
    expect(t.gemm.default.effMax).toBe(0.5);
    expect(t.gemm.default.halfWork).toBeCloseTo(1e8 - 20e-6 * 2e11 * 0.5, 0);
    expect(t.gemm.default.fixedS).toBeCloseTo(1e-3 - 20e-6, 12);
    expect(t.attentionDecode.unit).toBe('bytes');
    // a fit given as fixed time converts to half-work: (fixedS - dispatch) x rate x effMax, >= 0
    expect(t.memory.halfWork).toBe(0);
    const slowDispatch = targetFromProfile(profile({ dispatchOverheadS: 4e-6 }));
    expect(slowDispatch.memory.halfWork).toBeCloseTo((10e-6 - 4e-6) * 2e10 * 0.9, 6);
    expect(t.memoryBytes).toBe(2 ** 31);
    expect(t.kernelLaunchS).toBe(20e-6);
    expect(t.interconnect).toBeNull();
    expect(targetFromProfile(profile(), { memoryBytes: 8e9 }).memoryBytes).toBe(8e9);
  });
  it('uses a skinny-GEMM fit in bytes on the memory side of decode GEMMs', () => {
    const base = profile();
    const withSkinny: Profile = {
      ...base,
      fits: { ...base.fits, 'gemm-skinny': { kernelClass: 'gemm-skinny', model: 'saturating', workUnit: 'bytes', effMax: 0.25, halfWork: 0, fixedS: 0, points: 5, rmsRelError: 0.05 } },
    };
    const t = targetFromProfile(withSkinny, { memoryBytes: 8e9 });
    expect(t.gemmSkinny?.unit).toBe('bytes');
    expect(targetFromProfile(base).gemmSkinny).toBeNull();
    // decode GEMVs stream weights: at 25% of the bandwidth instead of the stream fit's 90%, decode slows
    const plain = predict({ model: small, target: targetFromProfile(base, { memoryBytes: 8e9 }), engine: 'webgpu', workload: w({ weightDtype: 'fp32', kvDtype: 'fp32' }) });
    const skinny = predict({ model: small, target: t, engine: 'webgpu', workload: w({ weightDtype: 'fp32', kvDtype: 'fp32' }) });
    expect(skinny.tpotS).toBeGreaterThan(2 * plain.tpotS);
  });
  it('a class fitted on both roofs bounds both sides; one fixed time serves every dtype', () => {
    const base = profile({ fmaF16FlopsPerS: 4e11 });
    const fit = (kernelClass: string, secondary?: { workUnit: 'flops' | 'bytes'; effMax: number; halfWork: number }) => ({
      kernelClass, model: 'saturating' as const, workUnit: 'flops' as const, effMax: 0.2, halfWork: 0, fixedS: 120e-6, points: 6, rmsRelError: 0.1, ...(secondary ? { secondary } : {}),
    });
    const t = targetFromProfile({ ...base, fits: { ...base.fits, 'gemm-skinny': fit('gemm-skinny', { workUnit: 'bytes', effMax: 0.5, halfWork: 0 }) } }, { memoryBytes: 8e9 });
    expect(t.gemmSkinny?.secondary?.unit).toBe('bytes');
    const ctx = createCostContext({ model: small, target: t, engine: 'webgpu', weightDtype: 'fp32', kvDtype: 'fp32' });
    const ops = stepCost(ctx, { prefill: [], decode: [{ pastTokens: 10 }] }, { breakdown: true }).ops!;
    const down = ops.find((o) => o.op === 'down_proj')!;
    // one token: the weights stream at 50% of 2e10 B/s, plus the fit's fixed time less one dispatch, plus the dispatch
    expect(down.bound).toBe('memory');
    expect(down.seconds / small.numLayers).toBeCloseTo(down.bytes / small.numLayers / (2e10 * 0.5) + 100e-6 + 20e-6, 9);
    // the compute side's ramp is the same fixed time whatever the dtype's peak
    const f16 = createCostContext({ model: small, target: t, engine: 'webgpu', weightDtype: 'fp16', kvDtype: 'fp16' });
    const big = { prefill: [{ tokens: 40, pastTokens: 0 }], decode: [] };
    const qkv32 = stepCost(ctx, big, { breakdown: true }).ops!.find((o) => o.op === 'qkv_proj')!;
    const qkv16 = stepCost(f16, big, { breakdown: true }).ops!.find((o) => o.op === 'qkv_proj')!;
    expect(qkv32.seconds / small.numLayers).toBeCloseTo(qkv32.flops / small.numLayers / (2e11 * 0.2) + 100e-6 + 20e-6, 9);
    expect(qkv16.seconds / small.numLayers).toBeCloseTo(qkv16.flops / small.numLayers / (4e11 * 0.2) + 100e-6 + 20e-6, 9);
  });
  it('norm and element-wise kernels take their own fitted classes where the profile has them', () => {
    const base = profile();
    const bytesFit = (kernelClass: string, fixedS: number) => ({ kernelClass, model: 'saturating' as const, workUnit: 'bytes' as const, effMax: 0.5, halfWork: 0, fixedS, points: 6, rmsRelError: 0.1 });
    const plain = targetFromProfile(base, { memoryBytes: 8e9 });
    expect(plain.norm).toBeNull();
    expect(plain.elementwise).toBeNull();
    const t = targetFromProfile({ ...base, fits: { ...base.fits, norm: bytesFit('norm', 80e-6), elementwise: bytesFit('elementwise', 50e-6) } }, { memoryBytes: 8e9 });
    const opsOf = (target: typeof t) =>
      stepCost(createCostContext({ model: small, target, engine: 'webgpu', weightDtype: 'fp32', kvDtype: 'fp32' }), { prefill: [], decode: [{ pastTokens: 10 }] }, { breakdown: true }).ops!;
    const norm = opsOf(t).find((o) => o.op === 'input_norm')!;
    const silu = opsOf(t).find((o) => o.op === 'silu_mul')!;
    expect(norm.seconds / small.numLayers).toBeCloseTo(norm.bytes / small.numLayers / (2e10 * 0.5) + 60e-6 + 20e-6, 9);
    expect(silu.seconds / small.numLayers).toBeCloseTo(silu.bytes / small.numLayers / (2e10 * 0.5) + 30e-6 + 20e-6, 9);
    // without the classes both are streams on the fitted memory curve
    expect(opsOf(plain).find((o) => o.op === 'input_norm')!.seconds).toBeLessThan(norm.seconds);
    // sampling takes the element-wise curve until the profile has a sampling class of its own
    const sampling = (target: typeof t) => opsOf(target).find((o) => o.op === 'sampling')!;
    expect(sampling(t).seconds).toBeCloseTo(sampling(t).bytes / (2e10 * 0.5) + 30e-6 + 20e-6, 9);
    const withSampling = targetFromProfile({ ...base, fits: { ...base.fits, elementwise: bytesFit('elementwise', 50e-6), sampling: bytesFit('sampling', 12e-6) } }, { memoryBytes: 8e9 });
    // its 12 us fixed time is under the 20 us dispatch the cost model adds anyway: no ramp left
    expect(sampling(withSampling).seconds).toBeCloseTo(sampling(withSampling).bytes / (2e10 * 0.5) + 20e-6, 9);
  });
  it('predicts on a calibrated adapter, faster with higher ceilings, tp must be 1', () => {
    const slow = predict({ model: small, target: targetFromProfile(profile(), { memoryBytes: 8e9 }), engine: 'vllm', workload: w() });
    const fast = predict({ model: small, target: targetFromProfile(profile({ memoryBytesPerS: 4e10, fmaF32FlopsPerS: 4e11 }), { memoryBytes: 8e9 }), engine: 'vllm', workload: w() });
    expect(fast.tpotS).toBeLessThan(slow.tpotS);
    expect(fast.ttftS).toBeLessThan(slow.ttftS);
    // 2.5 GB of bf16 weights at 18 GB/s effective: decode is ~0.1 s per token
    expect(slow.tpotS).toBeGreaterThan(2.4e9 / 2e10);
    expect(() => predict({ model: small, target: targetFromProfile(profile(), { memoryBytes: 8e9 }), engine: 'vllm', tp: 2, workload: w() })).toThrow(/no GPU interconnect/);
    // without fits the roofline is bare (efficiency 1)
    const bare = predict({ model: small, target: targetFromProfile(profile({}, false), { memoryBytes: 8e9 }), engine: 'ideal', workload: w() });
    expect(bare.tpotS).toBeLessThan(slow.tpotS);
  });
  it('the webgpu engine on an fp32 model: weights x 4 bytes, dispatch cost from the profile, no host overhead', () => {
    const t = targetFromProfile(profile(), { memoryBytes: 16e9 });
    const r = predict({ model: small, target: t, engine: 'webgpu', workload: w({ weightDtype: 'fp32', kvDtype: 'fp32' }) });
    const r16 = predict({ model: small, target: t, engine: 'webgpu', workload: w() });
    expect(r.weightsBytesPerGpu / r16.weightsBytesPerGpu).toBeCloseTo(2, 6);
    expect(r.kvBytesPerToken).toBe(2 * r16.kvBytesPerToken);
    expect(r.breakdown.some((b) => b.op === 'engine_step')).toBe(false);
    // decode: every weight byte once through the fitted stream curve, plus one dispatch per kernel
    const kernels = r.breakdown.filter((b) => b.phase === 'decode').length;
    // (llama-3.2-1b ties its embeddings: the LM head reads the whole table, so all weights count)
    const floor = r.weightsBytesPerGpu / (2e10 * 0.9);
    expect(r.tpotS).toBeGreaterThan(floor);
    // each kernel adds at most the dispatch cost (20 us) and the stream fit's fixed time (10 us)
    expect(r.tpotS).toBeLessThan(floor * 1.03 + kernels * small.numLayers * 30e-6);
  });
  it("dtype 'f16' takes the f16 fits at the peak each was fitted against; the f32 target ignores them", () => {
    const base = profile({ fmaF16FlopsPerS: 4e11 });
    const fit = (kernelClass: string, workUnit: 'flops' | 'bytes', effMax: number, secondary?: { workUnit: 'flops' | 'bytes'; effMax: number; halfWork: number }) => ({
      kernelClass, model: 'saturating' as const, workUnit, effMax, halfWork: 0, fixedS: 120e-6, points: 6, rmsRelError: 0.1, ...(secondary ? { secondary } : {}),
    });
    const withF16: Profile = {
      ...base,
      dtypeFits: { f16: { gemm: fit('gemm', 'flops', 0.6), 'attention-prefill': fit('attention-prefill', 'flops', 0.3), norm: fit('norm', 'bytes', 0.4, { workUnit: 'flops', effMax: 0.01, halfWork: 0 }) } },
    };
    // the f32 target is today's: the f16 fits change nothing in it
    expect(targetFromProfile(withF16, { memoryBytes: 8e9 })).toEqual(targetFromProfile(base, { memoryBytes: 8e9 }));
    const t = targetFromProfile(withF16, { memoryBytes: 8e9, dtype: 'f16' });
    // fixed time less one dispatch, at the rate of the fit: f16 peak for GEMM and attention, f32 for norms
    expect(t.gemm.fp16?.halfWork).toBeCloseTo(100e-6 * 4e11 * 0.6, 0);
    expect(t.gemm.bf16).toBe(t.gemm.fp16);
    expect(t.gemm.default).toEqual(targetFromProfile(base, { memoryBytes: 8e9 }).gemm.default);
    expect(t.attentionPrefill.curve.halfWork).toBeCloseTo(100e-6 * 4e11 * 0.3, 0);
    expect(t.norm?.secondary?.curve.halfWork).toBeCloseTo(100e-6 * 2e11 * 0.01, 0);
    expect(t.attentionDecode).toEqual(targetFromProfile(base, { memoryBytes: 8e9 }).attentionDecode); // no f16 fit: the f32 one
    // an fp16 prefill GEMM runs at 60% of the f16 peak, plus the fit's fixed time less one dispatch, plus the dispatch
    const ctx = createCostContext({ model: small, target: t, engine: 'webgpu', weightDtype: 'fp16', kvDtype: 'fp16' });
    const qkv = stepCost(ctx, { prefill: [{ tokens: 512, pastTokens: 0 }], decode: [] }, { breakdown: true }).ops!.find((o) => o.op === 'qkv_proj')!;
    expect(qkv.seconds / small.numLayers).toBeCloseTo(qkv.flops / small.numLayers / (4e11 * 0.6) + 100e-6 + 20e-6, 9);
    // resolveTarget passes the dtype on to a profile file
    const file = join(mkdtempSync(join(tmpdir(), 'roofcast-profile-')), 'p.json');
    writeFileSync(file, JSON.stringify(withF16));
    expect(resolveTarget({ profile: file, memoryBytes: 8e9, dtype: 'f16' }).gemm.fp16).toEqual(t.gemm.fp16);
    expect(() => targetFromProfile(base, { dtype: 'f16' })).toThrow(/no f16 measurements/);
  });
  it('a profile without memory figures asks for --memory-gib', () => {
    const p = profile();
    p.device.limits = {};
    expect(() => targetFromProfile(p)).toThrow(UserError);
    expect(() => targetFromProfile(p)).toThrow(/memory-gib/);
  });
  it('CLI: --profile FILE with --memory-gib, and a malformed profile is one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roofcast-profile-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(profile()));
    const run = (...args: string[]) => spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
    const ok = run('predict', '--model', 'llama-3.2-1b', '--profile', file, '--memory-gib', '8', '--input', '64', '--output', '8', '--json');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).memoryBytesPerGpu).toBe(8 * 1024 ** 3);
    expect(JSON.parse(ok.stdout).engine).toBe('webgpu');
    writeFileSync(file, JSON.stringify({ ...profile(), ceilings: { fmaF32FlopsPerS: -1 } }));
    const bad = run('predict', '--model', 'llama-3.2-1b', '--profile', file);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/ceilings/);
  });
});

describe('sliding-window attention', () => {
  it('prefillPairs equals the brute-force count', () => {
    for (const [t, p, win] of [[10, 0, 4], [100, 50, 64], [7, 3, 1000], [64, 200, 32], [1, 10, 5]]) {
      let brute = 0;
      for (let i = 1; i <= t; i++) brute += Math.min(p + i, win);
      expect(prefillPairs(t, p, win)).toBe(brute);
    }
  });
  it('caps KV memory and decode cost at the window', () => {
    const windowed: ModelSpec = { ...getModel('mistral-7b'), id: 'mistral-7b-window', slidingWindowTokens: 4096, maxContextTokens: 32768 };
    const full: ModelSpec = { ...windowed, slidingWindowTokens: undefined };
    const h100 = resolveTarget({ gpu: 'h100-sxm' });
    const engine = getEngine('vllm');
    const pw = memoryPlan(windowed, h100, engine, 1, 'bf16', 'bf16');
    expect(kvBytesForBatch(pw, 1, 16384)).toBe(kvBytesForBatch(pw, 1, 4096));
    const ctxW = createCostContext({ model: windowed, target: h100, engine });
    const ctxF = createCostContext({ model: full, target: h100, engine });
    const at = (ctx: typeof ctxW, past: number) => stepCost(ctx, { prefill: [], decode: Array.from({ length: 64 }, () => ({ pastTokens: past })) }).seconds;
    expect(at(ctxW, 20000)).toBeCloseTo(at(ctxW, 8000), 12);
    expect(at(ctxF, 20000)).toBeGreaterThan(at(ctxF, 8000));
    const a = predict({ model: windowed, target: h100, engine, workload: w({ inputTokens: 8000, outputTokens: 2000, batch: 16 }) });
    const b = predict({ model: full, target: h100, engine, workload: w({ inputTokens: 8000, outputTokens: 2000, batch: 16 }) });
    expect(a.tpotS).toBeLessThan(b.tpotS);
    expect(a.ttftS).toBeLessThan(b.ttftS);
  });
});
