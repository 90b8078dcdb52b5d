/**
 * Attention dispatches on caller-owned buffers for the mini transformer, built from the suite's
 * shaders (attention-prefill.wgsl; attention-decode.wgsl + attention-decode-reduce.wgsl) with the
 * same specialization as src/kernels/attention-*.ts. Layouts, row-major: q and o [tokens, heads,
 * headDim]; the K and V caches [capacity, kvHeads, headDim] (one sequence).
 */
import type { GpuContext } from '../gpu/device.js';

import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import type { Dispatch } from '../gpu/timing.js';
import { DEFAULT_PREFILL_CONFIG } from './attention-prefill.js';
import { specializeWgsl } from './attention-common.js';

export interface MiniAttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/** Causal prefill of `seq` tokens from position 0 (the caches hold their K and V at rows 0..seq-1). */
export async function attentionPrefillDispatch(
  ctx: GpuContext,
  s: MiniAttentionShape,
  seq: number,
  bufs: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; o: GPUBuffer },
): Promise<Dispatch> {
  const { br, bc } = DEFAULT_PREFILL_CONFIG;
  const code = specializeWgsl(loadWgsl('attention-prefill'), { D4: s.headDim / 4, BR: br, BC: bc }, 'f32');
  const pipeline = await createPipelineChecked(ctx, code, {
    SEQ: seq,
    NUM_HEADS: s.numHeads,
    NUM_KV_HEADS: s.numKvHeads,
    SCALE: 1 / Math.sqrt(s.headDim),
  });
  return { pipeline, bindGroups: [bindBuffers(ctx, pipeline, [bufs.q, bufs.k, bufs.v, bufs.o])], workgroups: [Math.ceil(seq / br), s.numHeads] };
}

/** Keys per decode block (invocations of pass 1) and keys per split. */
const DECODE_BK = 64;
const DECODE_CHUNK = 256;

/** Splits of a decode over kvLen keys. */
export function decodeSplits(kvLen: number): { chunk: number; splits: number } {
  return { chunk: DECODE_CHUNK, splits: Math.ceil(kvLen / DECODE_CHUNK) };
}

/** Bytes of the partial-result buffer for the longest decode. */
export function decodePartialBytes(s: MiniAttentionShape, maxKvLen: number): number {
  return s.numHeads * decodeSplits(maxKvLen).splits * (s.headDim + 2) * 4;
}

/**
 * One decode token against kvLen cached keys: split-KV pass and reduce pass. The shader takes the
 * cache length as an override, so each length is its own pipeline (built once, before timing).
 */
export async function attentionDecodeDispatches(
  ctx: GpuContext,
  s: MiniAttentionShape,
  kvLen: number,
  bufs: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; part: GPUBuffer; o: GPUBuffer },
): Promise<Dispatch[]> {
  const d4 = s.headDim / 4;
  const g = s.numHeads / s.numKvHeads;
  const { chunk, splits } = decodeSplits(kvLen);
  const code = specializeWgsl(loadWgsl('attention-decode'), { D4: d4, G: g, BK: DECODE_BK }, 'f32');
  const pass1 = await createPipelineChecked(ctx, code, {
    KV_LEN: kvLen,
    NUM_KV_HEADS: s.numKvHeads,
    SPLITS: splits,
    CHUNK: chunk,
    SCALE: 1 / Math.sqrt(s.headDim),
  });
  const reduceCode = specializeWgsl(loadWgsl('attention-decode-reduce'), { D4: d4 }, 'f32');
  const pass2 = await createPipelineChecked(ctx, reduceCode, { NUM_HEADS: s.numHeads, SPLITS: splits });
  return [
    { pipeline: pass1, bindGroups: [bindBuffers(ctx, pass1, [bufs.q, bufs.k, bufs.v, bufs.part])], workgroups: [splits, s.numKvHeads, 1] },
    { pipeline: pass2, bindGroups: [bindBuffers(ctx, pass2, [bufs.part, bufs.o])], workgroups: [s.numHeads, 1] },
  ];
}

