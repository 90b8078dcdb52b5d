/**
 * GEMM dispatches on caller-owned buffers, for the mini transformer: the same WGSL text
 * (gemm-wgsl.ts), override constants and split-K reduce (shaders/gemm-reduce.wgsl) as
 * src/kernels/gemm.ts, which only builds runs on its own random inputs. Weights are stored in
 * the configuration's B layout ('kn': [k][n], 'nk': [n][k]).
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer } from '../gpu/buffers.js';
import { bindBuffers, createPipelineChecked, loadWgsl, type BufferRange } from '../gpu/pipeline.js';
import type { Dispatch } from '../gpu/timing.js';
import type { Measurement } from '../profile/schema.js';
import { grid, mostUsedVariant, withElementType } from './common.js';
import type { KernelDtype } from './types.js';
import { encodeAs } from './verify.js';
import { defaultSplitK, findConfig, GEMM_CONFIGS, SKINNY_MAX_M, splitRange, type GemmConfig } from './gemm.js';
import { gemmKernel, workgroupTile, type GemmLayoutB } from './gemm-wgsl.js';

/** The defaults src/kernels/gemm.ts uses before any tuning. */
const DEFAULT_LARGE = 'reg-8x4-w8x1';
const DEFAULT_SKINNY = 'reg-4x4-w8x1';

/** The configuration (and whether split-K was kept) for large and skinny GEMMs. */
export interface GemmChoice {
  large: GemmConfig;
  skinny: GemmConfig;
  skinnySplit: boolean;
}

/**
 * The tile configurations the calibration kept (the variant most of its GEMM measurements of each
 * class used), so the model runs the kernels its profile measured; gemm.ts's defaults otherwise.
 */
export function gemmChoiceFromMeasurements(measurements: readonly Measurement[] = [], dtype: KernelDtype = 'f32'): GemmChoice {
  const pick = (cls: string): { config: GemmConfig; split: boolean } | null => {
    const best = mostUsedVariant(measurements, cls, dtype);
    if (!best) return null;
    const id = best.replace(/-split\d+$/, '');
    const config = GEMM_CONFIGS.find((c) => c.id === id);
    return config ? { config, split: /-split\d+$/.test(best) } : null;
  };
  const large = pick('gemm');
  const skinny = pick('gemm-skinny');
  return {
    large: large?.config ?? findConfig(DEFAULT_LARGE),
    skinny: skinny?.config ?? findConfig(DEFAULT_SKINNY),
    skinnySplit: skinny ? skinny.split : true,
  };
}

export function gemmConfigFor(choice: GemmChoice, m: number): GemmConfig {
  return m <= SKINNY_MAX_M ? choice.skinny : choice.large;
}

/** A [k][n] weight in the configuration's stored layout, as f32 or f16 (half bits). */
export function weightLayout(w: Float32Array, k: number, n: number, layout: GemmLayoutB, dtype: KernelDtype = 'f32'): Float32Array | Uint16Array {
  let t = w;
  if (layout === 'nk') {
    t = new Float32Array(k * n);
    for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) t[j * k + kk] = w[kk * n + j];
  }
  return encodeAs(t, dtype);
}

export interface GemmDispatches {
  dispatches: Dispatch[];
  /** split-K partial buffers owned by these dispatches */
  scratch: GPUBuffer[];
  variant: string;
}

/**
 * C[m][n] = A[m][k] x B on the given buffers (B in config.layoutB), A, B and C in `dtype`, f32
 * accumulation and split-K partials. `partials`: a split-K partial buffer to reuse (one of an
 * earlier call with the same shape, whose dispatches never run interleaved with these); without it
 * a new one is made and returned in `scratch`.
 */
export async function gemmDispatches(
  ctx: GpuContext,
  a: BufferRange,
  b: GPUBuffer,
  c: GPUBuffer,
  shape: { m: number; n: number; k: number },
  config: GemmConfig,
  allowSplit = true,
  partials?: GPUBuffer,
  dtype: KernelDtype = 'f32',
): Promise<GemmDispatches> {
  const { m, n, k } = shape;
  const vecA = k % 4 === 0;
  const vecB = config.layoutB === 'kn' ? n % 4 === 0 : k % 4 === 0;
  const split = m <= SKINNY_MAX_M && allowSplit ? defaultSplitK({ m, n, k }, config) : 1;
  const { kSplit, splits } = splitRange(k, split);
  const partial = splits > 1;
  const { bm, bn } = workgroupTile(config);
  const workgroups: [number, number, number] = [Math.ceil(n / bn), Math.ceil(m / bm), splits];
  const code = gemmKernel(config, { dtype, vecA, vecB, partial });
  const pipeline = await createPipelineChecked(ctx, code, { M: m, N: n, K: k, K_SPLIT: kSplit });
  const variant = `${config.id}${partial ? `-split${splits}` : ''}`;
  if (!partial) {
    return { dispatches: [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [a, b, c])], workgroups }], scratch: [], variant };
  }
  const reused = partials !== undefined && partials.size >= splits * m * n * 4;
  const part = reused ? partials : createBuffer(ctx, splits * m * n * 4);
  const reduce = await createPipelineChecked(ctx, withElementType(loadWgsl('gemm-reduce'), 'T', dtype), { MN: m * n, SPLITS: splits, WG: 64 });
  return {
    dispatches: [
      { pipeline, bindGroups: [bindBuffers(ctx, pipeline, [a, b, part])], workgroups },
      { pipeline: reduce, bindGroups: [bindBuffers(ctx, reduce, [part, c])], workgroups: grid(ctx, Math.ceil((m * n) / 64)) },
    ],
    scratch: reused ? [] : [part],
    variant,
  };
}
