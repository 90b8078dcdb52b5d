import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import {
  GEMM_CONFIGS,
  candidateConfigs,
  clearGemmTuning,
  defaultSplitK,
  findConfig,
  gemmBytes,
  gemmCases,
  gemmFlops,
  gemmConfigSupported,
  gemmReference,
  gemmReferenceWithScale,
  gemmError,
  prepareGemm,
  splitRange,
  tuneGemm,
  tuneGemmClass,
  type GemmShape,
} from '../src/kernels/gemm.js';
import { gemmKernel, type GemmConfig } from '../src/kernels/gemm-wgsl.js';
import type { KernelRun } from '../src/kernels/types.js';
import { verified } from './helpers/kernels.js';
import { UserError } from '../src/errors.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await openGpu();
});
afterAll(() => ctx?.close());


// odd shapes: none a multiple of any tile, K and N both aligned and unaligned to vec4
const ODD: GemmShape[] = [
  { m: 1, n: 7, k: 13 },
  { m: 17, n: 33, k: 29 },
  { m: 64, n: 65, k: 130 },
  { m: 70, n: 36, k: 44 },
];

describe('GEMM helpers (no GPU)', () => {
  it('counts FLOPs and minimum bytes', () => {
    expect(gemmFlops({ m: 2, n: 3, k: 5 })).toBe(60);
    expect(gemmBytes({ m: 2, n: 3, k: 5 }, 'f32')).toBe((10 + 15 + 6) * 4);
    expect(gemmBytes({ m: 2, n: 3, k: 5 }, 'f16')).toBe((10 + 15 + 6) * 2);
  });
  it('reference matches a hand-computed product in both B layouts', () => {
    const a = [1, 2, 3, 4]; // 2x2
    const bKn = [5, 6, 7, 8]; // [k][n]
    const bNk = [5, 7, 6, 8]; // [n][k]
    const want = [19, 22, 43, 50];
    expect(Array.from(gemmReference(a, bKn, { m: 2, n: 2, k: 2 }, 'kn'))).toEqual(want);
    expect(Array.from(gemmReference(a, bNk, { m: 2, n: 2, k: 2 }, 'nk'))).toEqual(want);
  });
  it('error measure flags a wrong or unwritten element and accepts rounding', () => {
    const shape = { m: 3, n: 4, k: 50 };
    const a = Array.from({ length: 150 }, (_, i) => Math.sin(i));
    const b = Array.from({ length: 200 }, (_, i) => Math.cos(i));
    const ref = gemmReferenceWithScale(a, b, shape, 'kn');
    const rounded = Float32Array.from(ref.c);
    expect(gemmError(rounded, ref)).toBeLessThan(1e-6);
    const wrong = Float32Array.from(ref.c);
    wrong[5] += 0.01 * ref.scale[5];
    expect(gemmError(wrong, ref)).toBeGreaterThan(1e-3);
    const poisoned = Float32Array.from(ref.c);
    poisoned[11] = NaN;
    expect(gemmError(poisoned, ref)).toBe(Infinity);
  });
  it('split ranges cover K exactly with vec4-aligned splits', () => {
    for (const [k, s] of [[13, 4], [2048, 16], [130, 3], [7, 8]]) {
      const { kSplit, splits } = splitRange(k, s);
      expect(kSplit % 4).toBe(0);
      expect(kSplit * splits).toBeGreaterThanOrEqual(k);
      expect(kSplit * (splits - 1)).toBeLessThan(k);
    }
  });
  it('splits K only for skinny shapes', () => {
    const c = findConfig('reg-4x4-w8x1');
    expect(defaultSplitK({ m: 512, n: 512, k: 4096 }, c)).toBe(1);
    expect(defaultSplitK({ m: 1, n: 2048, k: 2048 }, c)).toBeGreaterThan(1);
  });
  it('calibration cases include skinny M 1, 4, 16, 64 and square 256..1024', () => {
    const quick = gemmCases('quick');
    for (const m of [1, 4, 16, 64]) expect(quick.some((s) => s.m === m)).toBe(true);
    for (const s of [256, 512, 1024]) expect(quick.some((x) => x.m === s && x.n === s && x.k === s)).toBe(true);
    expect(gemmCases('full').length).toBeGreaterThan(quick.length);
  });
  it('config ids are unique and kebab-case; every config generates WGSL', () => {
    const ids = GEMM_CONFIGS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of GEMM_CONFIGS) {
      expect(c.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(gemmKernel(c, { dtype: 'f32', vecA: true, vecB: true, partial: false })).toContain('fn main');
    }
    expect(() => findConfig('no-such')).toThrow(UserError);
  });
});

describe('GEMM on the adapter', () => {
  for (const config of GEMM_CONFIGS) {
    it(`${config.id} f32 on odd shapes`, async () => {
      if (!gemmConfigSupported(ctx, config)) {
        await expect(prepareGemm(ctx, ODD[0], 'f32', config)).rejects.toThrow(UserError);
        return;
      }
      for (const shape of ODD) await verified(await prepareGemm(ctx, { ...shape, splitK: 1 }, 'f32', config));
    });
  }
  it('split-K with a reduce pass (two dispatches) on odd shapes', async () => {
    for (const [shape, splitK] of [
      [{ m: 1, n: 7, k: 13 }, 3],
      [{ m: 5, n: 33, k: 129 }, 4],
      [{ m: 64, n: 65, k: 130 }, 7],
    ] as const) {
      const run = await prepareGemm(ctx, { ...shape, splitK }, 'f32', 'reg-4x4-w8x1');
      expect(run.iteration.length).toBe(2);
      expect(run.kernelClass).toBe('gemm-skinny');
      expect(run.variant).toContain('split');
      await verified(run);
    }
  });
  it("the 'lane' kind (workgroup-uniform A rows, no GEMM_CONFIGS entry) in both layouts on odd shapes", async () => {
    for (const layoutB of ['kn', 'nk'] as const) {
      const lane: GemmConfig = { id: `lane-8x2-w8x1-${layoutB}`, kind: 'lane', tm: 8, tn: 2, wgx: 8, wgy: 1, bk: 0, layoutB, unroll: 2 };
      for (const shape of ODD) await verified(await prepareGemm(ctx, { ...shape, splitK: 1 }, 'f32', lane));
    }
  });
  it('subgroup-shared A kernels with split-K, skinny and f16 where the adapter has subgroups of 8', async () => {
    // the single-column 'subgroup' kind has no GEMM_CONFIGS entry (slower on lavapipe) but stays verified
    const single: GemmConfig = { id: 'sg-16x2-w8x1-nk', kind: 'subgroup', tm: 16, tn: 2, wgx: 8, wgy: 1, bk: 0, layoutB: 'nk', unroll: 1 };
    const ids: (string | GemmConfig)[] = ['sgr-8x4-w8x1', 'sgr-8x4-w8x1-nk', 'sgr-16x4-w8x1', 'sgr-32x4-w8x1', single];
    if (!gemmConfigSupported(ctx, findConfig('sgr-8x4-w8x1'))) return;
    for (const id of ids) {
      const run = await prepareGemm(ctx, { m: 5, n: 33, k: 129, splitK: 4 }, 'f32', id);
      expect(run.iteration.length).toBe(2);
      await verified(run);
      await verified(await prepareGemm(ctx, { m: 1, n: 70, k: 300, splitK: 1 }, 'f32', id));
      if (ctx.hasF16) await verified(await prepareGemm(ctx, { m: 17, n: 33, k: 29, splitK: 1 }, 'f16', id));
    }
  });
  it('kernel class and counts of a prepared run', async () => {
    const run = await prepareGemm(ctx, { m: 65, n: 9, k: 11, splitK: 1 }, 'f32');
    try {
      expect(run.kernelClass).toBe('gemm');
      expect(run.flops).toBe(2 * 65 * 9 * 11);
      expect(run.bytes).toBe((65 * 11 + 11 * 9 + 65 * 9) * 4);
    } finally {
      run.destroy();
    }
  });
  it('f16 inputs, f32 accumulate, f16 output where shader-f16', async () => {
    if (!ctx.hasF16) return;
    for (const id of ['reg-8x4-w8x1', 'reg-8x4-w8x1-nk', 'tiled-4x4-w16x16-k8']) {
      for (const shape of [{ m: 17, n: 33, k: 29 }, { m: 9, n: 40, k: 64 }]) {
        await verified(await prepareGemm(ctx, { ...shape, splitK: 1 }, 'f16', id));
      }
    }
    await verified(await prepareGemm(ctx, { m: 3, n: 20, k: 100, splitK: 3 }, 'f16', 'reg-4x4-w8x1'));
  });
  it('rejects malformed shapes with a UserError', async () => {
    await expect(prepareGemm(ctx, { m: 0, n: 4, k: 4 }, 'f32')).rejects.toThrow(UserError);
    await expect(prepareGemm(ctx, { m: 2, n: 4.5, k: 4 }, 'f32')).rejects.toThrow(UserError);
  });
  it('tuner keeps a configuration that verifies and later prepares use it', async () => {
    clearGemmTuning();
    const shape = { m: 37, n: 70, k: 61 };
    const configs = [findConfig('reg-8x4-w8x1'), findConfig('tiled-4x4-w16x16-k8'), findConfig('reg-4x8-w8x1')];
    const result = await tuneGemm(ctx, shape, 'f32', { configs, timing: { repeats: 3, warmup: 1 } });
    try {
      expect(result.trials.length).toBeGreaterThanOrEqual(configs.length);
      const okTrials = result.trials.filter((t) => t.ok);
      expect(okTrials.length).toBeGreaterThan(0);
      const fastest = Math.min(...okTrials.map((t) => t.seconds!));
      expect(result.bestSeconds).toBe(fastest);
      expect(okTrials.map((t) => t.variant)).toContain(result.best.variant);
      const again = await result.best.verify();
      expect(again.ok).toBe(true);
    } finally {
      result.best.destroy();
    }
    // same shape class as the tuned shape (skinny, K and N not multiples of 4)
    const later = await prepareGemm(ctx, { m: 40, n: 71, k: 59 }, 'f32');
    expect(later.variant!.startsWith(result.best.variant!.replace(/-split\d+$/, ''))).toBe(true);
    await verified(later);
    clearGemmTuning();
  });
  it('class tuner keeps the configuration best over all its shapes, and later prepares use it', async () => {
    clearGemmTuning();
    const shapes = [{ m: 96, n: 96, k: 96 }, { m: 80, n: 256, k: 64 }];
    const configs = [findConfig('reg-8x4-w8x1'), findConfig('tiled-4x4-w16x16-k8'), findConfig('reg-4x8-w8x1')];
    const kept = await tuneGemmClass(ctx, shapes, 'f32', { configs, timing: { repeats: 3, warmup: 1 } });
    expect(configs.map((c) => c.id)).toContain(kept.variant);
    expect(kept.slowdown).toBeGreaterThanOrEqual(1); // 1: fastest at every shape
    const later = await prepareGemm(ctx, { m: 100, n: 128, k: 72 }, 'f32');
    expect(later.variant).toBe(kept.variant);
    await verified(later);
    await expect(tuneGemmClass(ctx, [{ m: 1, n: 64, k: 64 }, { m: 512, n: 64, k: 64 }], 'f32')).rejects.toThrow(/one shape class/);
    clearGemmTuning();
  });
  it('candidate configs suit the shape', () => {
    expect(candidateConfigs({ m: 1, n: 64, k: 64 }).every((c) => c.tm <= 2 || c.tm * c.wgy <= 8)).toBe(true);
    expect(candidateConfigs({ m: 512, n: 512, k: 512 }).some((c) => c.kind === 'tiled')).toBe(true);
  });
});
