/**
 * Attention dispatches on caller-owned buffers for the mini transformer, built from the suite's
 * shaders (attention-prefill.wgsl; attention-decode.wgsl + attention-decode-reduce.wgsl) with the
 * same specialization as src/kernels/attention-*.ts. Layouts, row-major: q and o [tokens, heads,
 * headDim]; the K and V caches [capacity, kvHeads, headDim] (one sequence).
 */
import type { GpuContext } from '../gpu/device.js';

import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import type { Dispatch } from '../gpu/timing.js';
import type { Measurement } from '../profile/schema.js';
import { DEFAULT_PREFILL_CONFIG, type AttentionPrefillConfig } from './attention-prefill.js';
import { DEFAULT_DECODE_CONFIG, decodeSplits, type AttentionDecodeConfig } from './attention-decode.js';
import { specializeWgsl } from './attention-common.js';

export interface MiniAttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/** Tile configurations of the two attention kernels. */
export interface AttentionChoice {
  prefill: AttentionPrefillConfig;
  decode: AttentionDecodeConfig;
}

/**
 * The configurations the calibration kept (its measurements' variants 'tiled-br32-bc32' and
 * 'bk64-splits16'), so the model runs what the profile measured; the modules' defaults otherwise.
 */
export function attentionChoiceFromMeasurements(measurements: readonly Measurement[] = []): AttentionChoice {
  const variant = (cls: string, re: RegExp): RegExpExecArray | null => {
    const counts = new Map<string, number>();
    for (const m of measurements) if (m.kernelClass === cls && m.variant && re.test(m.variant)) counts.set(m.variant, (counts.get(m.variant) ?? 0) + 1);
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    return best ? re.exec(best) : null;
  };
  const p = variant('attention-prefill', /^(tiled|direct|loop)-br(\d+)-bc(\d+)$/);
  const d = variant('attention-decode', /^bk(\d+)-splits\d+$/);
  return {
    prefill: p ? { kind: p[1] as AttentionPrefillConfig['kind'], br: Number(p[2]), bc: Number(p[3]) } : DEFAULT_PREFILL_CONFIG,
    decode: d ? { ...DEFAULT_DECODE_CONFIG, bk: Number(d[1]) } : DEFAULT_DECODE_CONFIG,
  };
}

/** Causal prefill of `seq` tokens from position 0 (the caches hold their K and V at rows 0..seq-1). */
export async function attentionPrefillDispatch(
  ctx: GpuContext,
  s: MiniAttentionShape,
  seq: number,
  bufs: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; o: GPUBuffer },
  config: AttentionPrefillConfig = DEFAULT_PREFILL_CONFIG,
): Promise<Dispatch> {
  const { br, bc } = config;
  // the shader per kind, as prepareAttentionPrefill picks it
  const shader = config.kind === 'tiled' ? 'attention-prefill' : `attention-prefill-${config.kind}`;
  const code = specializeWgsl(loadWgsl(shader), { D4: s.headDim / 4, BR: br, BC: bc }, 'f32');
  const pipeline = await createPipelineChecked(ctx, code, {
    SEQ: seq,
    NUM_HEADS: s.numHeads,
    NUM_KV_HEADS: s.numKvHeads,
    SCALE: 1 / Math.sqrt(s.headDim),
  });
  return { pipeline, bindGroups: [bindBuffers(ctx, pipeline, [bufs.q, bufs.k, bufs.v, bufs.o])], workgroups: [Math.ceil(seq / br), s.numHeads] };
}

/** Splits of a decode over kvLen keys, as src/kernels/attention-decode.ts chooses them. */
export function miniDecodeSplits(s: MiniAttentionShape, kvLen: number, config: AttentionDecodeConfig): { chunk: number; splits: number } {
  return decodeSplits({ batch: 1, kvLen, ...s }, config);
}

/** Bytes of the partial-result buffer for every cache length up to maxKvLen. */
export function decodePartialBytes(s: MiniAttentionShape, maxKvLen: number, config: AttentionDecodeConfig): number {
  let splits = 1;
  for (let len = 1; len <= maxKvLen; len += config.bk) splits = Math.max(splits, miniDecodeSplits(s, len, config).splits);
  splits = Math.max(splits, miniDecodeSplits(s, maxKvLen, config).splits);
  return s.numHeads * splits * (s.headDim + 2) * 4;
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
  config: AttentionDecodeConfig = DEFAULT_DECODE_CONFIG,
): Promise<Dispatch[]> {
  const d4 = s.headDim / 4;
  const g = s.numHeads / s.numKvHeads;
  const { chunk, splits } = miniDecodeSplits(s, kvLen, config);
  const code = specializeWgsl(loadWgsl('attention-decode'), { D4: d4, G: g, BK: config.bk }, 'f32');
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

