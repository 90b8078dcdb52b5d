/**
 * Split-KV attention decode (shaders/attention-decode.wgsl + attention-decode-reduce.wgsl): one
 * query token per sequence against a KV cache; pass 1 computes a partial (max, sum, acc) per KV
 * chunk and head, pass 2 combines the chunks. A pass-1 workgroup serves all query heads of one KV
 * head, so the cache is read once.
 * Layout, row-major: q and out [batch, numHeads, headDim]; k and v [batch, kvLen, numKvHeads, headDim].
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer, poisonBuffer, readBuffer, uploadBuffer, Usage, POISON_F16, POISON_F32 } from '../gpu/buffers.js';
import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { runOnce } from '../gpu/timing.js';
import { UserError } from '../errors.js';
import type { KernelDtype, KernelRun } from './types.js';
import { decodeFrom, freshSeed, mulberry32, tolerance } from './verify.js';
import { attentionRelError, bytesPerElement, checkDtype, checkHeads, lanesSupported, randomTensor, referenceAttention, specializeWgsl } from './attention-common.js';

export interface AttentionDecodeShape {
  batch: number;
  kvLen: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** KV chunks per (sequence, KV head); default: enough workgroups to fill the device */
  splits?: number;
}

export interface AttentionDecodeConfig {
  /**
   * 'rows' (default; attention-decode.wgsl, portable): invocation = key for the scores, (column,
   * key phase) for p.v. 'lanes' (attention-decode-lanes.wgsl; subgroups of exactly 8, as lavapipe;
   * the 'rows' default runs instead elsewhere): one subgroup per workgroup, lanes split the head dim.
   */
  kind?: 'rows' | 'lanes';
  /** keys per block: 'rows': invocations per pass-1 workgroup (a multiple of headDim / 4); 'lanes':
   *  score registers per head, capped so that heads x keys stays within LANES_SCORE_REGISTERS */
  bk: number;
  /** pass-1 workgroups wanted when `splits` is not given */
  targetWorkgroups: number;
  /** fewest keys per split when `splits` is not given (short caches: fewer, longer splits) */
  minChunk?: number;
}

export const DEFAULT_DECODE_CONFIG: AttentionDecodeConfig = { bk: 64, targetWorkgroups: 64 };

/**
 * 'lanes' workgroups are single subgroups: up to 32 of them keep 2-16 CPU threads busy, and each
 * takes at least 256 keys, since every split costs its own setup and a share of the reduce pass
 * (lavapipe, one thread: 128 cached keys, 16/4 heads, d64 in 0.14 ms as 1 split against 0.20 ms as 8).
 */
export const LANES_DECODE_CONFIG: AttentionDecodeConfig = { kind: 'lanes', bk: 16, targetWorkgroups: 32, minChunk: 256 };

export const DECODE_CONFIGS: AttentionDecodeConfig[] = [
  LANES_DECODE_CONFIG,
  { bk: 64, targetWorkgroups: 64 },
  { bk: 32, targetWorkgroups: 64 },
  { bk: 128, targetWorkgroups: 32 },
];

/** Most named score registers (query heads x keys per block) a 'lanes' invocation keeps. */
export const LANES_SCORE_REGISTERS = 64;

/** Flops of one decode step: q.k and p.v over every cached key, for each query head (FMA = 2). */
export function decodeFlops(s: AttentionDecodeShape): number {
  return 4 * s.batch * s.numHeads * s.kvLen * s.headDim;
}

/** The KV cache read once, q read and out written once (the partials are not minimum traffic). */
export function decodeBytes(s: AttentionDecodeShape, dtype: KernelDtype): number {
  const e = bytesPerElement(dtype);
  return e * s.batch * s.headDim * (2 * s.kvLen * s.numKvHeads + 2 * s.numHeads);
}

export function checkDecodeShape(s: AttentionDecodeShape): void {
  for (const [name, value] of [['batch', s.batch], ['kvLen', s.kvLen]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new UserError(`attention decode ${name} must be a positive integer, got ${value}`);
  }
  checkHeads(s.numHeads, s.numKvHeads, s.headDim);
  if (s.splits !== undefined && (!Number.isInteger(s.splits) || s.splits < 1)) {
    throw new UserError(`attention decode splits must be a positive integer, got ${s.splits}`);
  }
}

/**
 * Splits and keys per split (a multiple of the block): the asked splits, or enough to give about
 * targetWorkgroups pass-1 workgroups, never more splits than blocks. Empty splits are dropped.
 */
export function decodeSplits(s: AttentionDecodeShape, c: AttentionDecodeConfig): { splits: number; chunk: number } {
  const blocks = Math.ceil(s.kvLen / c.bk);
  const wanted = s.splits ?? Math.ceil(c.targetWorkgroups / (s.batch * s.numKvHeads));
  const byLength = s.splits === undefined && c.minChunk ? Math.ceil(s.kvLen / c.minChunk) : Infinity;
  const splits0 = Math.max(1, Math.min(wanted, blocks, byLength));
  const chunk = Math.ceil(blocks / splits0) * c.bk;
  return { splits: Math.ceil(s.kvLen / chunk), chunk };
}

export function decodeVariant(c: AttentionDecodeConfig, splits: number): string {
  return `${c.kind === 'lanes' ? 'lanes-' : ''}bk${c.bk}-splits${splits}`;
}

/**
 * The configuration that runs for these heads on this adapter: 'lanes' only with subgroups of 8
 * (else the default), its block capped by the score registers. Throws for a block 'rows' cannot use.
 */
export function effectiveDecodeConfig(ctx: GpuContext, s: { numHeads: number; numKvHeads: number; headDim: number }, config: AttentionDecodeConfig): AttentionDecodeConfig {
  if (config.kind === 'lanes') {
    if (!lanesSupported(ctx)) return DEFAULT_DECODE_CONFIG;
    if (!Number.isInteger(config.bk) || config.bk < 1) throw new UserError(`attention decode block bk=${config.bk} must be a positive integer`);
    const group = s.numHeads / s.numKvHeads;
    return { ...config, bk: Math.max(1, Math.min(config.bk, Math.floor(LANES_SCORE_REGISTERS / group))) };
  }
  const d4 = s.headDim / 4;
  if (!Number.isInteger(config.bk) || config.bk % d4 !== 0 || config.bk > ctx.device.limits.maxComputeInvocationsPerWorkgroup) {
    throw new UserError(`attention decode block bk=${config.bk} must be a multiple of headDim / 4 (${d4}) within the workgroup size limit`);
  }
  return { ...config, kind: 'rows' };
}

/** Both passes' pipelines for an effective configuration (see effectiveDecodeConfig). */
export async function decodePipelines(
  ctx: GpuContext,
  s: { numHeads: number; numKvHeads: number; headDim: number },
  dtype: KernelDtype,
  config: AttentionDecodeConfig,
): Promise<{ pass1: GPUComputePipeline; pass2: GPUComputePipeline }> {
  const consts = { D4: s.headDim / 4, G: s.numHeads / s.numKvHeads, BK: config.bk };
  const shader = config.kind === 'lanes' ? 'attention-decode-lanes' : 'attention-decode';
  const pass1 = await createPipelineChecked(ctx, specializeWgsl(loadWgsl(shader), consts, dtype), { SCALE: 1 / Math.sqrt(s.headDim) });
  const pass2 = await createPipelineChecked(ctx, specializeWgsl(loadWgsl('attention-decode-reduce'), { D4: consts.D4 }, dtype));
  return { pass1, pass2 };
}

export async function prepareAttentionDecode(
  ctx: GpuContext,
  shape: AttentionDecodeShape,
  dtype: KernelDtype,
  config: AttentionDecodeConfig = DEFAULT_DECODE_CONFIG,
): Promise<KernelRun> {
  checkDecodeShape(shape);
  checkDtype(ctx, dtype);
  const { batch, kvLen, numHeads, numKvHeads, headDim } = shape;
  config = effectiveDecodeConfig(ctx, shape, config);
  const { splits, chunk } = decodeSplits(shape, config);
  const seed = freshSeed();
  const rng = mulberry32(seed);
  const qn = batch * numHeads * headDim;
  const kvn = batch * kvLen * numKvHeads * headDim;
  const q = randomTensor(ctx, qn, dtype, rng);
  const k = randomTensor(ctx, kvn, dtype, rng);
  const v = randomTensor(ctx, kvn, dtype, rng);
  const part = createBuffer(ctx, batch * numHeads * splits * (headDim + 2) * 4);
  const outBytes = qn * bytesPerElement(dtype);
  const o = createBuffer(ctx, outBytes);
  const buffers = [q.buffer, k.buffer, v.buffer, part, o];

  const { pass1, pass2 } = await decodePipelines(ctx, shape, dtype, config);
  const uniform = Usage.UNIFORM | Usage.COPY_DST;
  const params1 = uploadBuffer(ctx, new Uint32Array([kvLen, numKvHeads, splits, chunk]), uniform);
  const params2 = uploadBuffer(ctx, new Uint32Array([numHeads, splits, 0, 0]), uniform);
  buffers.push(params1, params2);
  const iteration = [
    { pipeline: pass1, bindGroups: [bindBuffers(ctx, pass1, [q.buffer, k.buffer, v.buffer, part, params1])], workgroups: [splits, numKvHeads, batch] as [number, number, number] },
    { pipeline: pass2, bindGroups: [bindBuffers(ctx, pass2, [part, o, params2])], workgroups: [numHeads, batch] as [number, number] },
  ];
  return {
    kernel: 'attention-decode',
    kernelClass: 'attention-decode',
    shape: { batch, kvLen, numHeads, numKvHeads, headDim, splits },
    dtype,
    flops: decodeFlops(shape),
    bytes: decodeBytes(shape, dtype),
    variant: decodeVariant(config, splits),
    iteration,
    async verify() {
      poisonBuffer(ctx, o, outBytes, dtype === 'f32' ? POISON_F32 : POISON_F16);
      poisonBuffer(ctx, part, part.size);
      await runOnce(ctx, iteration);
      const got = decodeFrom(await readBuffer(ctx, o, outBytes), dtype);
      const want = referenceAttention(q.values, k.values, v.values, { batch, seqQ: 1, seqK: kvLen, numHeads, numKvHeads, headDim });
      const relError = attentionRelError(got, want, v.values);
      return { relError, ok: relError <= tolerance(dtype), seed };
    },
    destroy() {
      for (const b of buffers) b.destroy();
    },
  };
}
