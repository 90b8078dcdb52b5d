/**
 * The attention kernel families for the calibration suite: flash-style causal prefill and split-KV
 * decode (see attention-prefill.ts and attention-decode.ts for layouts and counts).
 */
import type { GpuContext } from '../gpu/device.js';
import type { KernelDtype, KernelRun } from './types.js';
import { prepareAttentionPrefill, type AttentionPrefillShape } from './attention-prefill.js';
import { prepareAttentionDecode, type AttentionDecodeShape } from './attention-decode.js';

export * from './attention-prefill.js';
export * from './attention-decode.js';

export interface AttentionCase {
  /** kebab-case id, e.g. 'attention-prefill-s512-h4-kv1-d128-f32' */
  id: string;
  kernelClass: 'attention-prefill' | 'attention-decode';
  dtype: KernelDtype;
  prepare(ctx: GpuContext): Promise<KernelRun>;
}

function prefillCase(s: AttentionPrefillShape, dtype: KernelDtype): AttentionCase {
  return {
    id: `attention-prefill-s${s.seq}-h${s.numHeads}-kv${s.numKvHeads}-d${s.headDim}-${dtype}`,
    kernelClass: 'attention-prefill',
    dtype,
    prepare: (ctx) => prepareAttentionPrefill(ctx, s, dtype),
  };
}

function decodeCase(s: AttentionDecodeShape, dtype: KernelDtype): AttentionCase {
  return {
    id: `attention-decode-b${s.batch}-kv${s.kvLen}-h${s.numHeads}-kvh${s.numKvHeads}-d${s.headDim}-${dtype}`,
    kernelClass: 'attention-decode',
    dtype,
    prepare: (ctx) => prepareAttentionDecode(ctx, s, dtype),
  };
}

/**
 * The cases the calibration suite runs. Shapes share one compiled pipeline per (head dim, group
 * size, dtype), since sequence and cache lengths are uniforms: on lavapipe the compile (seconds) costs
 * more than the small runs. 'quick' keeps the attention part within about 40 s there; 'full' adds
 * sequence 1024 (the prefill target shape), caches up to 32k and f16 (where the caller's adapter has
 * shader-f16; f16 cases are listed and the caller filters them by `ctx.hasF16`).
 */
export function attentionCases(mode: 'quick' | 'full'): AttentionCase[] {
  const out: AttentionCase[] = [];
  const prefillSeqs = mode === 'quick' ? [128, 384] : [128, 512, 1024];
  for (const seq of prefillSeqs) out.push(prefillCase({ seq, numHeads: 4, numKvHeads: 1, headDim: 128 }, 'f32'));
  if (mode === 'full') out.push(prefillCase({ seq: 512, numHeads: 8, numKvHeads: 2, headDim: 64 }, 'f32'));
  const kvLens = mode === 'quick' ? [128, 1024, 4096] : [128, 1024, 4096, 16384, 32768];
  for (const kvLen of kvLens) out.push(decodeCase({ batch: 1, kvLen, numHeads: 8, numKvHeads: 2, headDim: 128 }, 'f32'));
  if (mode === 'full') {
    out.push(decodeCase({ batch: 4, kvLen: 2048, numHeads: 8, numKvHeads: 2, headDim: 128 }, 'f32'));
    out.push(prefillCase({ seq: 512, numHeads: 4, numKvHeads: 1, headDim: 128 }, 'f16'));
    out.push(decodeCase({ batch: 1, kvLen: 4096, numHeads: 8, numKvHeads: 2, headDim: 128 }, 'f16'));
  }
  return out;
}
