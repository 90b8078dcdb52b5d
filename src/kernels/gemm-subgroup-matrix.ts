/**
 * f16 GEMM on matrix units through Dawn's chromium_experimental_subgroup_matrix, used only where
 * adapter.info.subgroupMatrixConfigs lists an f16 configuration (NVIDIA through Vulkan, Apple
 * through Metal; never lavapipe). Dawn's WGSL syntax changed: older builds take majorness as a bool
 * argument, newer ones as a template parameter (row_major / col_major); the shader is written in
 * the older form and rewritten when the first compile fails.
 */
import type { GpuContext } from '../gpu/device.js';
import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { createBuffer, poisonBuffer, readBuffer, uploadBuffer, POISON_F16 } from '../gpu/buffers.js';
import { runOnce, type Dispatch } from '../gpu/timing.js';
import { UserError } from '../errors.js';
import type { KernelRun } from './types.js';
import { freshSeed, fromHalfArray, mulberry32, randomFloat32, toHalfArray } from './verify.js';
import { compareGemm, gemmBytes, gemmFlops, gemmKernelClass, gemmReferenceWithScale, type GemmShape } from './gemm.js';

export interface SubgroupMatrixConfig {
  M: number;
  N: number;
  K: number;
  /** accumulate type: 'f32' preferred, else 'f16' */
  resultComponentType: 'f32' | 'f16';
}

/** The f16-input matrix config to use, preferring f32 accumulation; null when the adapter has none. */
export function pickSubgroupMatrixConfig(configs: readonly Record<string, unknown>[]): SubgroupMatrixConfig | null {
  const f16 = configs
    .filter((c) => c.componentType === 'f16' && (c.resultComponentType === 'f32' || c.resultComponentType === 'f16'))
    .map((c) => ({ M: Number(c.M), N: Number(c.N), K: Number(c.K), resultComponentType: c.resultComponentType as 'f32' | 'f16' }))
    .filter((c) => c.M > 0 && c.N > 0 && c.K > 0);
  f16.sort((x, y) => (x.resultComponentType === 'f32' ? 0 : 1) - (y.resultComponentType === 'f32' ? 0 : 1));
  return f16[0] ?? null;
}

/** The shader text for a config in Dawn's older (bool majorness) syntax. */
export function subgroupMatrixWgsl(config: SubgroupMatrixConfig): string {
  return loadWgsl('gemm-subgroup-matrix')
    .replace(/^alias R = \w+;/m, `alias R = ${config.resultComponentType};`)
    .replace(/^const SM: u32 = \d+u;/m, `const SM: u32 = ${config.M}u;`)
    .replace(/^const SN: u32 = \d+u;/m, `const SN: u32 = ${config.N}u;`)
    .replace(/^const SK: u32 = \d+u;/m, `const SK: u32 = ${config.K}u;`);
}

/**
 * Rewrites the older call forms to the newer one: subgroupMatrixLoad<T>(p, o, false, s) becomes
 * subgroupMatrixLoad<T, row_major>(p, o, s), and likewise for subgroupMatrixStore.
 */
export function toTemplateMajorness(code: string): string {
  const major = (flag: string) => (flag.trim() === 'true' ? 'col_major' : 'row_major');
  return code
    .replace(
      /subgroupMatrixLoad<(subgroup_matrix_\w+<[^>]+>)>\(([^,]+),([^,]+),\s*(true|false),([^)]+)\)/g,
      (_m, type: string, ptr: string, off: string, flag: string, stride: string) =>
        `subgroupMatrixLoad<${type}, ${major(flag)}>(${ptr},${off},${stride})`,
    )
    .replace(
      /subgroupMatrixStore\(([^,]+),([^,]+),([^,]+),\s*(true|false),([^)]+)\)/g,
      (_m, ptr: string, off: string, value: string, flag: string, stride: string) =>
        `subgroupMatrixStore<${major(flag)}>(${ptr},${off},${value},${stride})`,
    );
}

const TR = 2;
const TC = 2;

export function hasSubgroupMatrix(ctx: GpuContext): boolean {
  return (
    ctx.hasF16 &&
    ctx.report.features.includes('chromium-experimental-subgroup-matrix') &&
    pickSubgroupMatrixConfig(ctx.report.subgroupMatrixConfigs) !== null
  );
}

/** f16 GEMM (f16 inputs, f32 or f16 accumulate per the config, f16 output) on matrix units. */
export async function prepareGemmSubgroupMatrix(ctx: GpuContext, shape: GemmShape): Promise<KernelRun> {
  const config = pickSubgroupMatrixConfig(ctx.report.subgroupMatrixConfigs);
  if (!config || !hasSubgroupMatrix(ctx)) throw new UserError('this adapter lists no f16 subgroup-matrix configuration');
  const { m, n, k } = shape;
  const subgroup = ctx.report.subgroupMaxSize ?? 32;
  const code = subgroupMatrixWgsl(config);
  const constants = { M: m, N: n, K: k, SG: subgroup };
  let pipeline: GPUComputePipeline;
  let syntax = 'bool-majorness';
  try {
    pipeline = await createPipelineChecked(ctx, code, constants);
  } catch {
    pipeline = await createPipelineChecked(ctx, toTemplateMajorness(code), constants);
    syntax = 'template-majorness';
  }
  const rng = mulberry32(freshSeed());
  const ah = toHalfArray(randomFloat32(m * k, rng));
  const bh = toHalfArray(randomFloat32(k * n, rng));
  const a = uploadBuffer(ctx, ah);
  const b = uploadBuffer(ctx, bh);
  const outBytes = m * n * 2;
  const c = createBuffer(ctx, outBytes);
  const workgroups: [number, number, number] = [Math.ceil(n / (config.N * TC)), Math.ceil(m / (config.M * TR)), 1];
  const iteration: Dispatch[] = [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [a, b, c])], workgroups }];
  let ref: ReturnType<typeof gemmReferenceWithScale> | undefined;
  return {
    kernel: 'gemm-f16',
    kernelClass: gemmKernelClass(shape),
    shape: { m, n, k, splitK: 1, layoutB: 'kn' },
    dtype: 'f16',
    flops: gemmFlops(shape),
    bytes: gemmBytes(shape, 'f16'),
    variant: `sgmat-${config.M}x${config.N}x${config.K}-${config.resultComponentType}acc-t${TR}x${TC}-${syntax}`,
    iteration,
    async verify() {
      poisonBuffer(ctx, c, outBytes, POISON_F16);
      await runOnce(ctx, iteration);
      const got = fromHalfArray(new Uint16Array(await readBuffer(ctx, c, outBytes)));
      ref ??= gemmReferenceWithScale(fromHalfArray(ah), fromHalfArray(bh), shape, 'kn');
      return compareGemm(got, ref, 'f16');
    },
    destroy() {
      a.destroy();
      b.destroy();
      c.destroy();
    },
  };
}
