/**
 * Attention dispatches on caller-owned buffers for the mini transformer, built from the suite's
 * shaders (attention-prefill.wgsl; attention-decode.wgsl + attention-decode-reduce.wgsl) with the
 * same specialization as src/kernels/attention-*.ts. Layouts, row-major: q and o [tokens, heads,
 * headDim]; the K and V caches [capacity, kvHeads, headDim] (one sequence); all in the dtype, the
 * decode partials in f32.
 */
import type { GpuContext } from '../gpu/device.js';

import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { uploadBuffer, Usage } from '../gpu/buffers.js';
import type { Dispatch } from '../gpu/timing.js';
import type { Measurement } from '../profile/schema.js';
import { DEFAULT_PREFILL_CONFIG, prefillShaderName, type AttentionPrefillConfig } from './attention-prefill.js';
import { DEFAULT_DECODE_CONFIG, decodePipelines, decodeSplits, effectiveDecodeConfig, LANES_DECODE_CONFIG, type AttentionDecodeConfig } from './attention-decode.js';
import { specializeWgsl } from './attention-common.js';
import { mostUsedVariant } from './common.js';
import type { KernelDtype } from './types.js';

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
 * The configurations the calibration kept (its measurements' variants 'rows-br32-bc32' and
 * 'bk64-splits16' or 'lanes-bk16-splits4'), so the model runs what the profile measured; the
 * modules' defaults otherwise.
 */
export function attentionChoiceFromMeasurements(measurements: readonly Measurement[] = [], dtype: KernelDtype = 'f32'): AttentionChoice {
  const variant = (cls: string, re: RegExp): RegExpExecArray | null => {
    const best = mostUsedVariant(measurements, cls, dtype, (v) => re.test(v));
    return best ? re.exec(best) : null;
  };
  const p = variant('attention-prefill', /^([a-z]+)-br(\d+)-bc(\d+)$/);
  const d = variant('attention-decode', /^(lanes-)?bk(\d+)-splits\d+$/);
  return {
    prefill: p ? { kind: p[1] as AttentionPrefillConfig['kind'], br: Number(p[2]), bc: Number(p[3]) } : DEFAULT_PREFILL_CONFIG,
    decode: d ? (d[1] ? { ...LANES_DECODE_CONFIG, bk: Number(d[2]) } : { ...DEFAULT_DECODE_CONFIG, bk: Number(d[2]) }) : DEFAULT_DECODE_CONFIG,
  };
}

/** Attention dispatches plus the small uniform buffers (shapes) they own. */
export interface AttentionDispatches {
  dispatches: Dispatch[];
  uniforms: GPUBuffer[];
}

const UNIFORM = Usage.UNIFORM | Usage.COPY_DST;

/** Causal prefill of `seq` tokens from position 0 (the caches hold their K and V at rows 0..seq-1). */
export async function attentionPrefillDispatch(
  ctx: GpuContext,
  s: MiniAttentionShape,
  seq: number,
  bufs: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; o: GPUBuffer },
  config: AttentionPrefillConfig = DEFAULT_PREFILL_CONFIG,
  dtype: KernelDtype = 'f32',
): Promise<AttentionDispatches> {
  const { br, bc } = config;
  const code = specializeWgsl(loadWgsl(prefillShaderName(config)), { D4: s.headDim / 4, BR: br, BC: bc }, dtype);
  const pipeline = await createPipelineChecked(ctx, code, { SCALE: 1 / Math.sqrt(s.headDim) });
  const params = uploadBuffer(ctx, new Uint32Array([seq, s.numHeads, s.numKvHeads, 0]), UNIFORM);
  const dispatch: Dispatch = {
    pipeline,
    bindGroups: [bindBuffers(ctx, pipeline, [bufs.q, bufs.k, bufs.v, bufs.o, params])],
    workgroups: [Math.ceil(seq / br), s.numHeads],
  };
  return { dispatches: [dispatch], uniforms: [params] };
}

/** Splits of a decode over kvLen keys, as src/kernels/attention-decode.ts chooses them. */
export function miniDecodeSplits(s: MiniAttentionShape, kvLen: number, config: AttentionDecodeConfig): { chunk: number; splits: number } {
  return decodeSplits({ batch: 1, kvLen, ...s }, config);
}

/** Bytes of the partial-result buffer for every cache length up to maxKvLen. */
export function decodePartialBytes(ctx: GpuContext, s: MiniAttentionShape, maxKvLen: number, config: AttentionDecodeConfig): number {
  config = effectiveDecodeConfig(ctx, s, config);
  let splits = 1;
  for (let len = 1; len <= maxKvLen; len += config.bk) splits = Math.max(splits, miniDecodeSplits(s, len, config).splits);
  splits = Math.max(splits, miniDecodeSplits(s, maxKvLen, config).splits);
  return s.numHeads * splits * (s.headDim + 2) * 4;
}

/** One decode token against kvLen cached keys: split-KV pass and reduce pass. */
export async function attentionDecodeDispatches(
  ctx: GpuContext,
  s: MiniAttentionShape,
  kvLen: number,
  bufs: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; part: GPUBuffer; o: GPUBuffer },
  config: AttentionDecodeConfig = DEFAULT_DECODE_CONFIG,
  /** the uniforms of an earlier call with the same shape, kvLen and config, to bind again */
  reuse?: readonly GPUBuffer[],
  dtype: KernelDtype = 'f32',
): Promise<AttentionDispatches> {
  config = effectiveDecodeConfig(ctx, s, config);
  const { chunk, splits } = miniDecodeSplits(s, kvLen, config);
  const { pass1, pass2 } = await decodePipelines(ctx, s, dtype, config);
  const params1 = reuse?.[0] ?? uploadBuffer(ctx, new Uint32Array([kvLen, s.numKvHeads, splits, chunk]), UNIFORM);
  const params2 = reuse?.[1] ?? uploadBuffer(ctx, new Uint32Array([s.numHeads, splits, 0, 0]), UNIFORM);
  return {
    dispatches: [
      { pipeline: pass1, bindGroups: [bindBuffers(ctx, pass1, [bufs.q, bufs.k, bufs.v, bufs.part, params1])], workgroups: [splits, s.numKvHeads, 1] },
      { pipeline: pass2, bindGroups: [bindBuffers(ctx, pass2, [bufs.part, bufs.o, params2])], workgroups: [s.numHeads, 1] },
    ],
    uniforms: [params1, params2],
  };
}
