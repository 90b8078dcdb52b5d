/**
 * Memory streams (shaders/stream.wgsl): copy, read, write, triad over f32 data, plus the adapter's
 * own copyBufferToBuffer as the reference. Bytes are the minimum traffic: each array read or written
 * once (read also writes its per-invocation partial sums, which are counted).
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer, poisonBuffer, readBuffer, uploadBuffer } from '../gpu/buffers.js';
import { createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { runOnce, type EncodeCommands } from '../gpu/timing.js';
import type { KernelRun } from './types.js';
import { freshSeed, mulberry32, randomFloat32 } from './verify.js';
import { compare, grid, paramsBuffer, withElementType } from './common.js';

export type StreamOp = 'copy' | 'read' | 'write' | 'triad';
export const STREAM_OPS: readonly StreamOp[] = ['copy', 'read', 'write', 'triad'];

export interface StreamVariant {
  /** element each lane loads: one f32 or a vec4<f32> */
  elem: 'f32' | 'vec4';
  /** workgroup size */
  wg: number;
  /** elements per invocation */
  per: number;
}

/**
 * The variants tried per adapter; the best copy on a large buffer is kept for the sweep.
 * On lavapipe (Mesa 25.0.7, LLVM 15) no layout reaches copyBufferToBuffer: every storage load or
 * store, whatever the access pattern, compiles to per-lane scalar code (test the lane's mask bit,
 * reload the buffer's base and size, compare against the size, branch, one 32-bit load and insert,
 * or extract and store), about 19 instructions and 3.5 branches per f32 copied (GALLIVM_DEBUG=asm).
 * Offsets computed from workgroup_id alone (uniform) take the same path in this Mesa, and
 * one-invocation workgroups with uniform loops only tie vec4-wg64-per4 (measured 2026-11-25).
 */
export const STREAM_VARIANTS: StreamVariant[] = [
  { elem: 'vec4', wg: 64, per: 1 }, // the naive one-vec4-per-thread baseline
  { elem: 'vec4', wg: 64, per: 4 },
  { elem: 'vec4', wg: 256, per: 4 },
  { elem: 'vec4', wg: 64, per: 16 },
  { elem: 'f32', wg: 64, per: 4 },
  { elem: 'f32', wg: 256, per: 4 },
  { elem: 'f32', wg: 256, per: 16 },
  { elem: 'f32', wg: 64, per: 32 },
  // one SIMD group per workgroup on a 256-bit CPU adapter
  { elem: 'vec4', wg: 8, per: 16 },
  { elem: 'f32', wg: 8, per: 64 },
];

export function variantName(v: StreamVariant): string {
  return `${v.elem}-wg${v.wg}-per${v.per}`;
}

export interface StreamShape {
  /** f32 values per array (a multiple of 4 for vec4 variants) */
  elems: number;
}

/** Minimum bytes one iteration moves (partial sums of `read` included). */
export function streamBytes(op: StreamOp, elems: number, partials = 0): number {
  const arrays = { copy: 2, read: 1, write: 1, triad: 3 }[op];
  return arrays * elems * 4 + partials * 4;
}

/** Bindings each entry point uses (layout 'auto' keeps only those). */
const BINDINGS: Record<StreamOp, number[]> = { copy: [0, 1, 3], read: [0, 2, 3], write: [1, 3], triad: [0, 1, 2, 3] };

export async function prepareStream(
  ctx: GpuContext,
  op: StreamOp,
  shape: StreamShape,
  variant: StreamVariant = { elem: 'vec4', wg: 64, per: 4 },
): Promise<KernelRun> {
  const n = shape.elems;
  const width = variant.elem === 'vec4' ? 4 : 1;
  if (n % width !== 0) throw new Error(`stream ${op}: ${n} values is not a multiple of ${width}`);
  const nElem = n / width;
  const workgroups = grid(ctx, Math.ceil(nElem / (variant.wg * variant.per)));
  const invocations = workgroups[0] * workgroups[1] * variant.wg;
  const rng = mulberry32(freshSeed());
  const s = Math.fround(0.5 + rng());
  const t = Math.fround(rng() - 0.5);
  const code = withElementType(loadWgsl('stream'), 'E', variant.elem === 'vec4' ? 'vec4<f32>' : 'f32');
  const pipeline = await createPipelineChecked(ctx, code, { WG: variant.wg, PER: variant.per }, `stream_${op}`);
  // Inputs random (never zeros); outputs allocated and poisoned by verify.
  const aData = op === 'copy' || op === 'read' ? randomFloat32(n, rng) : null;
  const bData = op === 'triad' ? randomFloat32(n, rng) : null;
  const cData = op === 'triad' ? randomFloat32(n, rng) : null;
  const partialValues = invocations * width;
  const a = aData ? uploadBuffer(ctx, aData) : createBuffer(ctx, n * 4);
  const b = bData ? uploadBuffer(ctx, bData) : createBuffer(ctx, n * 4);
  const c = cData ? uploadBuffer(ctx, cData) : createBuffer(ctx, op === 'read' ? partialValues * 4 : 4 * width);
  const params = paramsBuffer(ctx, [nElem, s, t, 0], ['u32', 'f32', 'f32', 'u32']);
  const all = [a, b, c, params];
  const bindGroup = ctx.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: BINDINGS[op].map((binding) => ({ binding, resource: { buffer: all[binding] } })),
  });
  const iteration = [{ pipeline, bindGroups: [bindGroup], workgroups }];
  const output = { copy: b, read: c, write: b, triad: a }[op];
  const outputValues = op === 'read' ? partialValues : n;
  return {
    kernel: `stream-${op}`,
    kernelClass: 'stream',
    shape: { elems: n, workingSetBytes: streamBytes(op, n) },
    dtype: 'f32',
    flops: op === 'triad' ? 2 * n : op === 'read' ? n : 0,
    bytes: streamBytes(op, n, op === 'read' ? partialValues : 0),
    variant: variantName(variant),
    iteration,
    async verify() {
      poisonBuffer(ctx, output, outputValues * 4);
      await runOnce(ctx, iteration);
      const got = new Float32Array(await readBuffer(ctx, output, outputValues * 4));
      const want = new Float64Array(outputValues);
      if (op === 'copy') want.set(aData!);
      else if (op === 'triad') for (let i = 0; i < n; i++) want[i] = bData![i] + s * cData![i];
      else if (op === 'write') for (let i = 0; i < n; i++) want[i] = s * (Math.floor(i / width) % 1024) + t;
      else {
        // invocation g of workgroup w sums elements w*wg*per + g + k*wg, lane by lane
        for (let inv = 0; inv < invocations; inv++) {
          const w = Math.floor(inv / variant.wg);
          const g = inv % variant.wg;
          for (let k = 0; k < variant.per; k++) {
            const e = w * variant.wg * variant.per + g + k * variant.wg;
            if (e >= nElem) continue;
            for (let l = 0; l < width; l++) want[inv * width + l] += aData![e * width + l];
          }
        }
      }
      return compare(got, want, 'f32');
    },
    destroy() {
      for (const buf of all) buf.destroy();
    },
  };
}

/** A KernelRun timed by commands outside a compute pass (timeCommands), not by dispatches. */
export interface CommandKernelRun extends KernelRun {
  encode: EncodeCommands;
}

/** The adapter's own copyBufferToBuffer of `elems` f32 values: the bandwidth reference. */
export async function prepareBufferCopy(ctx: GpuContext, shape: StreamShape): Promise<CommandKernelRun> {
  const n = shape.elems;
  const bytes = Math.ceil(n / 4) * 16;
  const data = randomFloat32(bytes / 4, mulberry32(freshSeed()));
  const src = uploadBuffer(ctx, data);
  const dst = createBuffer(ctx, bytes);
  const encode: EncodeCommands = (encoder, r) => {
    for (let i = 0; i < r; i++) encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
  };
  return {
    kernel: 'copy-buffer-to-buffer',
    kernelClass: 'copy-buffer-to-buffer',
    shape: { elems: bytes / 4, workingSetBytes: 2 * bytes },
    dtype: 'f32',
    flops: 0,
    bytes: 2 * bytes,
    iteration: [],
    encode,
    async verify() {
      poisonBuffer(ctx, dst, bytes);
      const encoder = ctx.device.createCommandEncoder();
      encode(encoder, 1);
      ctx.device.queue.submit([encoder.finish()]);
      await ctx.device.queue.onSubmittedWorkDone();
      return compare(new Float32Array(await readBuffer(ctx, dst, bytes)), data, 'f32');
    },
    destroy() {
      src.destroy();
      dst.destroy();
    },
  };
}
