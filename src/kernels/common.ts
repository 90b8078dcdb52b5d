/** Small helpers shared by the fma, stream and dispatch kernel modules. */
import type { GpuContext } from '../gpu/device.js';
import { Usage, uploadBuffer } from '../gpu/buffers.js';
import type { KernelDtype } from './types.js';
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
