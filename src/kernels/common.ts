/** Small helpers shared by the fma, stream and dispatch kernel modules. */
import type { GpuContext } from '../gpu/device.js';
import { Usage, uploadBuffer } from '../gpu/buffers.js';
import type { KernelDtype } from './types.js';
import type { Measurement } from '../profile/schema.js';
import { maxRelError, tolerance } from './verify.js';

/** Workgroup counts for `count` workgroups, folded into y when x would pass the per-dimension limit. */
export function grid(ctx: GpuContext, count: number): [number, number] {
  const maxX = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (count <= maxX) return [Math.max(1, count), 1];
  const y = Math.ceil(count / maxX);
  return [Math.ceil(count / y), y];
}

/** A 16-byte uniform buffer of four 32-bit words; `kinds` says which words are f32 or u32. */
export function paramsBuffer(ctx: GpuContext, values: [number, number, number, number], kinds: ('f32' | 'u32')[]): GPUBuffer {
  const bytes = new ArrayBuffer(16);
  const f = new Float32Array(bytes);
  const u = new Uint32Array(bytes);
  values.forEach((v, i) => (kinds[i] === 'f32' ? (f[i] = v) : (u[i] = v >>> 0)));
  return uploadBuffer(ctx, u, Usage.UNIFORM | Usage.COPY_DST);
}

/**
 * The variant most of a class's measurements used, among its points of `dtype` where it has some
 * (tuning ran per dtype), else among all; `accept` filters the variants considered. The mini
 * transformer runs the configurations its profile measured.
 */
export function mostUsedVariant(measurements: readonly Measurement[], kernelClass: string, dtype: KernelDtype, accept: (variant: string) => boolean = () => true): string | undefined {
  const same = measurements.some((m) => m.kernelClass === kernelClass && m.dtype === dtype);
  const counts = new Map<string, number>();
  for (const m of measurements) {
    if (m.kernelClass !== kernelClass || !m.variant || !accept(m.variant) || (same && m.dtype !== dtype)) continue;
    counts.set(m.variant, (counts.get(m.variant) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** Replaces the shader's `alias T = f32;` (or E) line for an f16 variant, adding `enable f16;`. */
export function withElementType(code: string, alias: string, type: string): string {
  const pattern = new RegExp(`^alias ${alias} = [^;]+;`, 'm');
  if (!pattern.test(code)) throw new Error(`shader has no 'alias ${alias}' line`);
  const out = code.replace(pattern, `alias ${alias} = ${type};`);
  return type.includes('f16') ? `enable f16;\n${out}` : out;
}

/** relError against the reference and whether it is inside the dtype's tolerance. */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, dtype: KernelDtype): { relError: number; ok: boolean } {
  const relError = maxRelError(got, want);
  return { relError, ok: relError <= tolerance(dtype) };
}

export const BYTES_PER: Record<KernelDtype, number> = { f32: 4, f16: 2 };
