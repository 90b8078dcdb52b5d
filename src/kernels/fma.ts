/**
 * FMA peak and the mixbench-style arithmetic-intensity sweep (shaders/fma.wgsl, mixbench.wgsl).
 * Both iterate x = a * x + b, whose float64 closed form a^n x + b (1 - a^n) / (1 - a) is the CPU
 * reference; |a| < 1 keeps the rounding error of the GPU's chain bounded.
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer, poisonBuffer, readBuffer, uploadBuffer, POISON_F32, POISON_F16 } from '../gpu/buffers.js';
import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { runOnce } from '../gpu/timing.js';
import type { KernelDtype, KernelRun } from './types.js';
import { decodeFrom, encodeAs, freshSeed, maxScaledError, mulberry32, randomFloat32, roundToHalf, tolerance } from './verify.js';
import { BYTES_PER, compare, grid, paramsBuffer, withElementType } from './common.js';

/** independent vec4 chains per invocation in fma.wgsl */
export const FMA_CHAINS = 4;
const WG = 64;

export interface FmaShape {
  /** invocations */
  threads: number;
  /** loop trips; each runs FMA_CHAINS vec4 FMAs */
  iters: number;
}

export function fmaFlops(shape: FmaShape): number {
  return shape.threads * shape.iters * FMA_CHAINS * 4 * 2;
}

/** n steps of x = a x + b from x0, in float64. */
export function affineSteps(x0: number, a: number, b: number, n: number): number {
  const an = a ** n;
  return an * x0 + (b * (1 - an)) / (1 - a);
}

/**
 * Reference of an FMA chain per element, with the scale its error is judged against: the magnitude
 * of the last step's terms, |a v| + |b|. WGSL's fma need not be fused, so an adapter may round a*v
 * before adding b (lavapipe does for f16): near-zero results then carry an error of the size of the
 * terms, not of the result.
 */
function chainReference(x: ArrayLike<number>, round: (v: number) => number, a: number, b: number, steps: number): { want: Float64Array; scale: Float64Array } {
  const want = new Float64Array(x.length);
  const scale = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = round(x[i]);
    want[i] = affineSteps(x0, a, b, steps);
    scale[i] = Math.max(Math.abs(want[i]), Math.abs(a * affineSteps(x0, a, b, steps - 1)) + Math.abs(b));
  }
  return { want, scale };
}

/** Coefficients: a near 1 keeps the f32 result sensitive to x0; f16 needs faster contraction. */
function coefficients(dtype: KernelDtype, rng: () => number): { a: number; b: number; round: (v: number) => number } {
  const round = dtype === 'f16' ? roundToHalf : Math.fround;
  const a = dtype === 'f32' ? 0.9 + 0.09 * rng() : 0.25 + 0.5 * rng();
  const b = 0.1 + 0.9 * rng();
  return { a: round(a), b: round(b), round };
}

function requireF16(ctx: GpuContext, dtype: KernelDtype): void {
  if (dtype === 'f16' && !ctx.hasF16) throw new Error('this adapter has no shader-f16');
}

export async function prepareFma(ctx: GpuContext, shape: FmaShape, dtype: KernelDtype): Promise<KernelRun> {
  requireF16(ctx, dtype);
  const rng = mulberry32(freshSeed());
  const { a, b, round } = coefficients(dtype, rng);
  const x0 = randomFloat32(shape.threads * 4, rng);
  const code = withElementType(loadWgsl('fma'), 'T', dtype);
  const pipeline = await createPipelineChecked(ctx, code, { WG, ITERS: shape.iters });
  const input = uploadBuffer(ctx, x0);
  const out = createBuffer(ctx, shape.threads * 4);
  const params = paramsBuffer(ctx, [a, b, shape.threads, 0], ['f32', 'f32', 'u32', 'u32']);
  const bindGroup = bindBuffers(ctx, pipeline, [input, out, params]);
  const iteration = [{ pipeline, bindGroups: [bindGroup], workgroups: grid(ctx, Math.ceil(shape.threads / WG)) }];
  return {
    kernel: `fma-${dtype}`,
    kernelClass: 'fma',
    shape: { threads: shape.threads, iters: shape.iters },
    dtype,
    flops: fmaFlops(shape),
    bytes: shape.threads * 16 + shape.threads * 4,
    variant: `wg${WG}-chains${FMA_CHAINS}`,
    iteration,
    async verify() {
      poisonBuffer(ctx, out, shape.threads * 4);
      await runOnce(ctx, iteration);
      const got = new Float32Array(await readBuffer(ctx, out, shape.threads * 4));
      const want = new Float64Array(shape.threads);
      for (let t = 0; t < shape.threads; t++) {
        let sum = 0;
        // the 4 chains hold two permutations of the lanes and their negations
        for (let l = 0; l < 4; l++) {
          const s = round(x0[t * 4 + l]);
          sum += 2 * affineSteps(s, a, b, shape.iters) + 2 * affineSteps(-s, a, b, shape.iters);
        }
        want[t] = sum;
      }
      return compare(got, want, dtype);
    },
    destroy() {
      input.destroy();
      out.destroy();
      params.destroy();
    },
  };
}

export interface MixbenchShape {
  /** vec4 elements read once and written once */
  elems: number;
  /** dependent FMAs per element */
  fmas: number;
}

/** FLOP per byte of a mixbench point: 8 flops per vec4 per FMA over a vec4 read and written. */
export function mixbenchIntensity(fmas: number, dtype: KernelDtype): number {
  return (8 * fmas) / (2 * 4 * BYTES_PER[dtype]);
}

export async function prepareMixbench(ctx: GpuContext, shape: MixbenchShape, dtype: KernelDtype): Promise<KernelRun> {
  requireF16(ctx, dtype);
  const rng = mulberry32(freshSeed());
  const { a, b, round } = coefficients(dtype, rng);
  const n = shape.elems * 4;
  const x = randomFloat32(n, rng);
  const code = withElementType(loadWgsl('mixbench'), 'T', dtype);
  const pipeline = await createPipelineChecked(ctx, code, { WG, FMAS: shape.fmas });
  const bytesOut = n * BYTES_PER[dtype];
  const src = uploadBuffer(ctx, encodeAs(x, dtype));
  const dst = createBuffer(ctx, bytesOut);
  const params = paramsBuffer(ctx, [a, b, shape.elems, 0], ['f32', 'f32', 'u32', 'u32']);
  const bindGroup = bindBuffers(ctx, pipeline, [src, dst, params]);
  const iteration = [{ pipeline, bindGroups: [bindGroup], workgroups: grid(ctx, Math.ceil(shape.elems / (WG * 4))) }];
  return {
    kernel: `mixbench-${dtype}`,
    kernelClass: 'mixbench',
    shape: { elems: shape.elems, fmas: shape.fmas, intensity: mixbenchIntensity(shape.fmas, dtype) },
    dtype,
    flops: n * shape.fmas * 2,
    bytes: 2 * bytesOut,
    variant: `wg${WG}-per4`,
    iteration,
    async verify() {
      poisonBuffer(ctx, dst, bytesOut, dtype === 'f16' ? POISON_F16 : POISON_F32);
      await runOnce(ctx, iteration);
      const got = decodeFrom(await readBuffer(ctx, dst, bytesOut), dtype);
      const { want, scale } = chainReference(x, round, a, b, shape.fmas);
      const relError = maxScaledError(got, want, scale);
      return { relError, ok: relError <= tolerance(dtype) };
    },
    destroy() {
      src.destroy();
      dst.destroy();
      params.destroy();
    },
  };
}
