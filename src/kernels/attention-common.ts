/**
 * Shared pieces of the attention kernel families: WGSL specialization, random inputs in either
 * dtype, and the float64 CPU reference both prefill and decode are verified against.
 */
import type { GpuContext } from '../gpu/device.js';
import { uploadBuffer } from '../gpu/buffers.js';
import { UserError } from '../errors.js';
import type { KernelDtype } from './types.js';
import { fromHalfBits, maxScaledError, randomFloat32, toHalfArray } from './verify.js';

/**
 * Replaces the `const NAME: u32 = ...;` lines of a shader (private array sizes and unrolled tiles
 * must be compile-time constants, which `override` cannot give) and switches the storage alias to
 * f16 where asked. Throws when a constant is missing, so a renamed shader constant fails loudly.
 */
export function specializeWgsl(code: string, consts: Record<string, number>, dtype: KernelDtype): string {
  let out = code;
  for (const [name, value] of Object.entries(consts)) {
    const re = new RegExp(`^const ${name}: u32 = [^;]*;`, 'm');
    if (!re.test(out)) throw new Error(`shader has no 'const ${name}: u32' line`);
    out = out.replace(re, `const ${name}: u32 = ${Math.trunc(value)}u;`);
  }
  out = expandUnrolls(out, consts);
  if (dtype === 'f16') {
    if (!/^alias T = f32;/m.test(out)) throw new Error("shader has no 'alias T = f32;' line");
    out = 'enable f16;\n' + out.replace(/^alias T = f32;/m, 'alias T = f16;');
  }
  return out;
}

/**
 * Expands `//#unroll NAME COUNT` ... `//#end` blocks (nested allowed): the body is repeated COUNT
 * times with {NAME} replaced by 0, 1, ...; COUNT is a number or the name of a specialized const.
 * Unrolled named variables stay in registers where an indexed private array would not.
 */
export function expandUnrolls(code: string, consts: Record<string, number>): string {
  const lines = code.split('\n');
  const out: string[] = [];
  let i = 0;
  const expand = (end: number, sink: string[]): void => {
    while (i < end) {
      const line = lines[i];
      const m = /^\s*\/\/#unroll (\w+) (\w+)\s*$/.exec(line);
      if (!m) {
        if (/^\s*\/\/#end\s*$/.test(line)) throw new Error(`unmatched //#end at shader line ${i + 1}`);
        sink.push(line);
        i++;
        continue;
      }
      const [, name, countText] = m;
      const count = /^\d+$/.test(countText) ? Number(countText) : consts[countText];
      if (count === undefined) throw new Error(`//#unroll count '${countText}' is not a specialized const`);
      // find the matching //#end
      let depth = 0;
      let j = i + 1;
      for (; j < lines.length; j++) {
        if (/^\s*\/\/#unroll /.test(lines[j])) depth++;
        else if (/^\s*\/\/#end\s*$/.test(lines[j])) {
          if (depth === 0) break;
          depth--;
        }
      }
      if (j >= lines.length) throw new Error(`//#unroll at shader line ${i + 1} has no //#end`);
      const body: string[] = [];
      i++;
      expand(j, body);
      i = j + 1;
      const token = new RegExp(`\\{${name}\\}`, 'g');
      for (let n = 0; n < count; n++) for (const b of body) sink.push(b.replace(token, String(n)));
    }
  };
  expand(lines.length, out);
  return out.join('\n');
}

export function bytesPerElement(dtype: KernelDtype): number {
  return dtype === 'f32' ? 4 : 2;
}

/** Throws a UserError unless the adapter can run the dtype. */
export function checkDtype(ctx: GpuContext, dtype: KernelDtype): void {
  if (dtype === 'f16' && !ctx.hasF16) throw new UserError('f16 attention needs the shader-f16 feature, which this adapter lacks');
  if (dtype !== 'f32' && dtype !== 'f16') throw new UserError(`unknown dtype '${String(dtype)}' (f32, f16)`);
}

export function checkHeads(numHeads: number, numKvHeads: number, headDim: number): void {
  for (const [name, value] of [['numHeads', numHeads], ['numKvHeads', numKvHeads], ['headDim', headDim]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new UserError(`attention ${name} must be a positive integer, got ${value}`);
  }
  if (numHeads % numKvHeads !== 0) {
    throw new UserError(`attention numHeads (${numHeads}) must be a multiple of numKvHeads (${numKvHeads})`);
  }
  if (headDim % 4 !== 0 || headDim > 256) {
    throw new UserError(`attention headDim must be a multiple of 4 up to 256, got ${headDim}`);
  }
}

/**
 * A tensor of fresh random values in [-1, 1): the device buffer in the dtype and the values the
 * reference sees (rounded to f16 where the device holds f16, so only the kernel's error is measured).
 */
export interface RandomTensor {
  buffer: GPUBuffer;
  values: Float32Array;
}

export function randomTensor(ctx: GpuContext, n: number, dtype: KernelDtype, rng: () => number): RandomTensor {
  const values = randomFloat32(n, rng);
  if (dtype === 'f32') return { buffer: uploadBuffer(ctx, values), values };
  const bits = toHalfArray(values);
  const rounded = new Float32Array(n);
  for (let i = 0; i < n; i++) rounded[i] = fromHalfBits(bits[i]);
  return { buffer: uploadBuffer(ctx, bits), values: rounded };
}

export interface ReferenceShape {
  batch: number;
  /** query tokens per sequence */
  seqQ: number;
  /** key/value tokens per sequence; query i sits at position seqK - seqQ + i (causal) */
  seqK: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/**
 * Float64 causal attention with grouped-query heads. Layouts, row-major: q and the result
 * [batch, seqQ, numHeads, headDim]; k and v [batch, seqK, numKvHeads, headDim]. Query i attends
 * keys 0..seqK-seqQ+i: the causal triangle for prefill (seqQ = seqK), the whole cache for decode.
 */
export function referenceAttention(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, s: ReferenceShape): Float64Array {
  const { batch, seqQ, seqK, numHeads, numKvHeads, headDim: d } = s;
  const group = numHeads / numKvHeads;
  const scale = 1 / Math.sqrt(d);
  const out = new Float64Array(batch * seqQ * numHeads * d);
  const scores = new Float64Array(seqK);
  const acc = new Float64Array(d);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < seqQ; i++) {
      const last = seqK - seqQ + i;
      for (let h = 0; h < numHeads; h++) {
        const kvh = Math.floor(h / group);
        const qOff = ((b * seqQ + i) * numHeads + h) * d;
        let max = -Infinity;
        for (let j = 0; j <= last; j++) {
          const kOff = ((b * seqK + j) * numKvHeads + kvh) * d;
          let dot = 0;
          for (let e = 0; e < d; e++) dot += q[qOff + e] * k[kOff + e];
          scores[j] = dot * scale;
          if (scores[j] > max) max = scores[j];
        }
        acc.fill(0);
        let sum = 0;
        for (let j = 0; j <= last; j++) {
          const p = Math.exp(scores[j] - max);
          sum += p;
          const vOff = ((b * seqK + j) * numKvHeads + kvh) * d;
          for (let e = 0; e < d; e++) acc[e] += p * v[vOff + e];
        }
        for (let e = 0; e < d; e++) out[qOff + e] = acc[e] / sum;
      }
    }
  }
  return out;
}

/**
 * Largest error of an attention output against the float64 reference, relative to the largest |v|.
 * Every output is a convex combination of v rows, so |out| <= max|v| and its rounding error is of
 * the size of v, however much the output itself cancels towards zero over long contexts (judging
 * each element against its own size made correct f32 kernels fail now and then at 1.1e-4). A
 * missing or extra key still moves outputs by about |v| / seq, far above the tolerance.
 * NaN or a poisoned (never written) element gives Infinity.
 */
export function attentionRelError(got: ArrayLike<number>, want: ArrayLike<number>, v: ArrayLike<number>): number {
  let vMax = 0;
  for (let i = 0; i < v.length; i++) vMax = Math.max(vMax, Math.abs(v[i]));
  return maxScaledError(got, want, new Float64Array(want.length).fill(vMax));
}

/** Whether the subgroup 'lanes' kernels (prefill 'lanes'/'pairs', decode 'lanes') can run: subgroups whose size is always exactly 8. */
export function lanesSupported(ctx: GpuContext): boolean {
  return ctx.hasSubgroups && ctx.report.subgroupMinSize === 8 && ctx.report.subgroupMaxSize === 8;
}
