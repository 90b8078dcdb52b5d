/**
 * Flash-style causal attention prefill (shaders/attention-prefill.wgsl, and
 * attention-prefill-lanes.wgsl where subgroups have exactly 8 invocations): online softmax, the
 * score matrix never written, grouped-query heads, fully masked K/V tiles skipped.
 * Layout, row-major: Q and O [seq, numHeads, headDim]; K and V [seq, numKvHeads, headDim].
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer, poisonBuffer, readBuffer, uploadBuffer, Usage, POISON_F16, POISON_F32 } from '../gpu/buffers.js';
import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { runOnce } from '../gpu/timing.js';
import { UserError } from '../errors.js';
import type { KernelDtype, KernelRun } from './types.js';
import { decodeFrom, freshSeed, mulberry32, tolerance } from './verify.js';
import { attentionRelError, bytesPerElement, checkDtype, checkHeads, randomTensor, referenceAttention, specializeWgsl, lanesSupported } from './attention-common.js';

export interface AttentionPrefillShape {
  seq: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

export interface AttentionPrefillConfig {
  /** 'rows': one query row per invocation, K/V tiles in workgroup memory, headDim loops kept as
   *  loops; 'unrolled': the same with the headDim loops unrolled into named registers (compiles
   *  for minutes on lavapipe at headDim 128, so calibration does not try it there); 'lanes': one
   *  query row per invocation, subgroups of exactly 8 share K/V elements with subgroupBroadcast
   *  (attention-prefill-lanes.wgsl; needs the subgroups feature with subgroup size 8, as lavapipe;
   *  prepareAttentionPrefill runs DEFAULT_PREFILL_CONFIG instead elsewhere); 'pairs': 'lanes' with
   *  two query rows per invocation (attention-prefill-pairs.wgsl, same requirement), the fastest
   *  on lavapipe */
  kind: 'rows' | 'unrolled' | 'lanes' | 'pairs';
  /** query rows per workgroup, one invocation each ('lanes': a multiple of 8; 'pairs': two rows
   *  per invocation, a multiple of 16) */
  br: number;
  /** keys per K/V tile (a multiple of 8): staged in workgroup memory ('rows', 'unrolled') or
   *  scored in named registers ('lanes', 'pairs') */
  bc: number;
}

export const DEFAULT_PREFILL_CONFIG: AttentionPrefillConfig = { kind: 'rows', br: 32, bc: 32 };

/** Tile configurations worth trying on an adapter (the calibration keeps the fastest). */
export const PREFILL_CONFIGS: AttentionPrefillConfig[] = [
  { kind: 'pairs', br: 16, bc: 16 },
  { kind: 'lanes', br: 8, bc: 16 },
  { kind: 'rows', br: 32, bc: 32 },
  { kind: 'rows', br: 16, bc: 16 },
];

export function prefillVariant(c: AttentionPrefillConfig): string {
  return `${c.kind}-br${c.br}-bc${c.bc}`;
}

/** Useful causal work: QK^T and PV over the (seq * (seq + 1) / 2) query-key pairs, FMA = 2. */
export function prefillFlops(s: AttentionPrefillShape): number {
  return 4 * s.headDim * s.numHeads * ((s.seq * (s.seq + 1)) / 2);
}

/** Q, K and V read once, O written once. */
export function prefillBytes(s: AttentionPrefillShape, dtype: KernelDtype): number {
  const e = bytesPerElement(dtype);
  return e * s.seq * s.headDim * (2 * s.numHeads + 2 * s.numKvHeads);
}

export function checkPrefillShape(s: AttentionPrefillShape): void {
  if (!Number.isInteger(s.seq) || s.seq < 1) throw new UserError(`attention seq must be a positive integer, got ${s.seq}`);
  checkHeads(s.numHeads, s.numKvHeads, s.headDim);
}

export { lanesSupported };

function checkConfig(ctx: GpuContext, c: AttentionPrefillConfig, headDim: number): void {
  const ok = (c.kind === 'rows' || c.kind === 'unrolled' || c.kind === 'lanes' || c.kind === 'pairs') && Number.isInteger(c.br) && c.br >= 1 && Number.isInteger(c.bc) && c.bc >= 8 && c.bc % 8 === 0;
  if (!ok) throw new UserError(`attention prefill config ${prefillVariant(c)}: br >= 1, bc a multiple of 8`);
  if (c.kind === 'lanes' || c.kind === 'pairs') {
    const unit = c.kind === 'lanes' ? 8 : 16;
    if (c.br % unit !== 0) throw new UserError(`attention prefill config ${prefillVariant(c)}: br must be a multiple of ${unit}`);
  }
  const sharedBytes = c.kind === 'lanes' || c.kind === 'pairs' ? c.br * Math.ceil(headDim / 8) * 8 * 4 : 2 * c.bc * headDim * 4;
  const limit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  if (sharedBytes > limit) {
    throw new UserError(`attention prefill config ${prefillVariant(c)} needs ${sharedBytes} B of workgroup memory at head dim ${headDim}; the adapter allows ${limit}`);
  }
  if (c.br > ctx.device.limits.maxComputeInvocationsPerWorkgroup) {
    throw new UserError(`attention prefill config ${prefillVariant(c)}: br exceeds the adapter's workgroup size limit`);
  }
}

export async function prepareAttentionPrefill(
  ctx: GpuContext,
  shape: AttentionPrefillShape,
  dtype: KernelDtype,
  config: AttentionPrefillConfig = DEFAULT_PREFILL_CONFIG,
): Promise<KernelRun> {
  checkPrefillShape(shape);
  checkDtype(ctx, dtype);
  // 'lanes' and 'pairs' rely on subgroups of exactly 8; elsewhere the portable kernel runs (run.variant says so).
  if ((config.kind === 'lanes' || config.kind === 'pairs') && !lanesSupported(ctx)) config = DEFAULT_PREFILL_CONFIG;
  checkConfig(ctx, config, shape.headDim);
  const { seq, numHeads, numKvHeads, headDim } = shape;
  const seed = freshSeed();
  const rng = mulberry32(seed);
  const qn = seq * numHeads * headDim;
  const kvn = seq * numKvHeads * headDim;
  const q = randomTensor(ctx, qn, dtype, rng);
  const k = randomTensor(ctx, kvn, dtype, rng);
  const v = randomTensor(ctx, kvn, dtype, rng);
  const outBytes = qn * bytesPerElement(dtype);
  const o = createBuffer(ctx, outBytes);
  const buffers = [q.buffer, k.buffer, v.buffer, o];

  const code = specializeWgsl(loadWgsl(prefillShaderName(config)), { D4: headDim / 4, BR: config.br, BC: config.bc }, dtype);
  const pipeline = await createPipelineChecked(ctx, code, { SCALE: 1 / Math.sqrt(headDim) });
  const params = uploadBuffer(ctx, new Uint32Array([seq, numHeads, numKvHeads, 0]), Usage.UNIFORM | Usage.COPY_DST);
  buffers.push(params);
  const bindGroup = bindBuffers(ctx, pipeline, buffers);
  const iteration = [{ pipeline, bindGroups: [bindGroup], workgroups: [Math.ceil(seq / config.br), numHeads] as [number, number] }];

  return {
    kernel: 'attention-prefill',
    kernelClass: 'attention-prefill',
    shape: { seq, numHeads, numKvHeads, headDim },
    dtype,
    flops: prefillFlops(shape),
    bytes: prefillBytes(shape, dtype),
    variant: prefillVariant(config),
    iteration,
    async verify() {
      poisonBuffer(ctx, o, outBytes, dtype === 'f32' ? POISON_F32 : POISON_F16);
      await runOnce(ctx, iteration);
      const got = decodeFrom(await readBuffer(ctx, o, outBytes), dtype);
      const want = referenceAttention(q.values, k.values, v.values, { batch: 1, seqQ: seq, seqK: seq, numHeads, numKvHeads, headDim });
      const relError = attentionRelError(got, want, v.values);
      return { relError, ok: relError <= tolerance(dtype), seed };
    },
    destroy() {
      for (const b of buffers) b.destroy();
    },
  };
}

/** The shader file of a configuration (for modules that build their own dispatches). */
export function prefillShaderName(c: AttentionPrefillConfig): string {
  return c.kind === 'rows' ? 'attention-prefill' : c.kind === 'lanes' || c.kind === 'pairs' ? `attention-prefill-${c.kind}` : 'attention-prefill-unrolled';
}
