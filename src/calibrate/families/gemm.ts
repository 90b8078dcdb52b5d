/**
 * GEMM in the calibration suite, on the GEMM module's own shapes (gemmCases) and tuner (tuneGemm):
 * the tuner tries every tile configuration on one representative shape per class (large, skinny),
 * verifies and times each, and caches the fastest, which prepareGemm then uses for every case.
 * Skinny cases run over cold copies (src/calibrate/copies.ts); the tuner compares configurations
 * on one set of inputs (in cache), which keeps tuning short.
 */
import type { GpuContext } from '../../gpu/device.js';
import { gemmCases, prepareGemm, SKINNY_MAX_M, tuneGemmClass, type GemmShape } from '../../kernels/gemm.js';
import { hasSubgroupMatrix, prepareGemmSubgroupMatrix } from '../../kernels/gemm-subgroup-matrix.js';
import type { KernelDtype } from '../../kernels/types.js';
import { defaultTiming } from '../timing-defaults.js';
import { suiteDtypes, type SuiteCase, type SuiteFamily } from '../suite.js';

const shapeId = (s: GemmShape) => `${s.m}x${s.n}x${s.k}`;

/**
 * Shapes the tuner runs on, per shape class the cases fall in; a class tuned at several keeps the
 * configuration best over all of them (tuneGemmClass). Large: a square and a wide prompt-like
 * one (a pick at 512^3 alone ran a 96x4096x768 GEMM 50% slower than its curve on lavapipe).
 */
const TUNE_SHAPES: GemmShape[][] = [
  [
    { m: 512, n: 512, k: 512 },
    { m: 128, n: 4096, k: 768 },
  ],
  [{ m: 16, n: 2048, k: 2048 }],
];

/** The f16 shapes: up to 1024^3 multiply-adds and 2048^2 weights (the full suite's larger ones cost minutes). */
function withinF16Budget(s: GemmShape): boolean {
  return s.m * s.n * s.k <= 1024 ** 3 && s.n * s.k <= 2048 ** 2;
}

export const gemmFamily: SuiteFamily = {
  name: 'gemm',
  async plan(ctx, mode, tools) {
    const dtypes = suiteDtypes(ctx, mode, tools);
    for (const dtype of dtypes) {
      for (const shapes of TUNE_SHAPES) {
        tools.note(`tuning gemm ${shapes.map(shapeId).join(' + ')} ${dtype}`);
        try {
          await tuneGemmClass(ctx, shapes, dtype, { timing: { ...defaultTiming(mode), repeats: 3, warmup: 1 } });
        } catch (err) {
          // untuned shapes fall back to the module's default configuration
          tools.note(`gemm tuning failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    const cases: SuiteCase[] = [];
    for (const dtype of dtypes) {
      // f16 on the full suite's largest shapes would dominate the run on a CPU adapter: f16 takes
      // the rest (every other quick shape left the f16 skinny class 4 points, too few to fit its
      // two roofs: it over-predicted the f16 decode GEMMs by 25-40% on lavapipe; without the
      // small-K prompt shapes it under-predicted a 48-row prefill at K 192 by 13-24%)
      const shapes = dtype === 'f32' ? gemmCases(mode) : gemmCases(mode).filter(withinF16Budget);
      for (const shape of shapes) {
        // skinny (decode) GEMMs stream their weights once per step: timed over cold copies. Large
        // ones reuse each B tile across M tiles, where the first touch weighs little.
        const coldCopies = shape.m <= SKINNY_MAX_M;
        cases.push({
          id: `gemm ${shapeId(shape)} ${dtype}${coldCopies ? ' cold' : ''}`,
          family: 'gemm',
          prepare: (c: GpuContext) => prepareGemm(c, shape, dtype),
          ...(coldCopies ? { coldCopies } : {}),
        });
      }
    }
    if (hasSubgroupMatrix(ctx)) {
      for (const shape of [{ m: 512, n: 512, k: 512 }, { m: 1024, n: 1024, k: 1024 }]) {
        cases.push({ id: `gemm-subgroup-matrix ${shapeId(shape)}`, family: 'gemm', prepare: (c) => prepareGemmSubgroupMatrix(c, shape) });
      }
    }
    return cases;
  },
};
