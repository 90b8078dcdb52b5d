/**
 * GEMM kernel family: C[M,N] = A[M,K] x B[K,N], f32 or f16 inputs (f32 accumulate, output in the
 * input dtype), row-major A, B stored as a weight ('kn': B[k][n]; 'nk': Bt[n][k]).
 * Several tile configurations (src/kernels/gemm-wgsl.ts); skinny M (decode, m <= 64) with split-K
 * plus a reduce pass; a subgroup-matrix f16 kernel where the adapter lists matrix configs.
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer, poisonBuffer, readBuffer, uploadBuffer, POISON_F16, POISON_F32 } from '../gpu/buffers.js';
import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { runOnce, timeIteration, type Dispatch, type TimingOptions } from '../gpu/timing.js';
import { UserError } from '../errors.js';
import type { KernelDtype, KernelRun } from './types.js';
import { decodeFrom, freshSeed, fromHalfArray, maxScaledError, mulberry32, randomFloat32, toHalfArray, tolerance } from './verify.js';
import { BYTES_PER, grid, withElementType } from './common.js';
import { gemmKernel, workgroupTile, type GemmConfig, type GemmLayoutB } from './gemm-wgsl.js';

export type { GemmConfig, GemmLayoutB } from './gemm-wgsl.js';

export interface GemmShape {
  m: number;
  n: number;
  k: number;
  /** K splits (skinny M); default: chosen from the shape (1 for m > 64) */
  splitK?: number;
}

/** Rows at or below which a GEMM is 'gemm-skinny' (decode: one row per sequence in the batch). */
export const SKINNY_MAX_M = 64;

const cfg = (
  id: string,
  kind: GemmConfig['kind'],
  tm: number,
  tn: number,
  wgx: number,
  wgy: number,
  extra: Partial<GemmConfig> = {},
): GemmConfig => ({ id, kind, tm, tn, wgx, wgy, bk: 0, layoutB: 'kn', unroll: 1, ...extra });

/**
 * The tile configurations tried by tuneGemm. 'reg-*' read each thread's register block straight
 * from global memory (no workgroup memory, no barriers: fastest where a workgroup is a CPU thread,
 * as on lavapipe); 'tiled-*' are the classic two-level kernels (workgroup tile in var<workgroup>);
 * 'sgr-*' are 'reg-*' whose A rows are loaded once per subgroup (invocation s loads row s, then
 * subgroupBroadcast): on lavapipe every divergent load is a loop over the 8 lanes, so sharing A
 * this way is about 3x faster (README, "GEMM kernels"). They need the 'subgroups' feature and a
 * fixed subgroup size equal to WGX (gemmConfigSupported). The 'lane' and 'subgroup' kinds of
 * gemm-wgsl.ts (single columns per lane) measured slower on lavapipe and have no entry here.
 * Ids: <kind>-<TM>x<TN>-w<WGX>x<WGY>[-k<BK>][-u<unroll>][-nk].
 */
export const GEMM_CONFIGS: readonly GemmConfig[] = [
  cfg('reg-8x4-w8x1', 'register', 8, 4, 8, 1),
  cfg('reg-8x8-w8x1', 'register', 8, 8, 8, 1),
  cfg('reg-4x8-w8x1', 'register', 4, 8, 8, 1),
  cfg('reg-8x4-w8x1-u4', 'register', 8, 4, 8, 1, { unroll: 4 }),
  cfg('reg-8x4-w8x1-nk', 'register', 8, 4, 8, 1, { layoutB: 'nk' }),
  cfg('reg-4x4-w16x4', 'register', 4, 4, 16, 4),
  cfg('tiled-4x4-w16x16-k8', 'tiled', 4, 4, 16, 16, { bk: 8 }),
  cfg('tiled-8x4-w8x8-k16', 'tiled', 8, 4, 8, 8, { bk: 16 }),
  // skinny M: few rows per thread, many columns
  cfg('reg-1x8-w32x1', 'register', 1, 8, 32, 1),
  cfg('reg-4x4-w8x1', 'register', 4, 4, 8, 1),
  cfg('reg-2x8-w8x1', 'register', 2, 8, 8, 1),
  // subgroup-shared A (adapters with a fixed subgroup size of 8, e.g. lavapipe)
  cfg('sgr-16x4-w8x1', 'subgroup-register', 16, 4, 8, 1),
  cfg('sgr-32x4-w8x1', 'subgroup-register', 32, 4, 8, 1),
  cfg('sgr-16x4-w8x1-nk', 'subgroup-register', 16, 4, 8, 1, { layoutB: 'nk' }),
  cfg('sgr-8x4-w8x1', 'subgroup-register', 8, 4, 8, 1),
  cfg('sgr-8x4-w8x1-nk', 'subgroup-register', 8, 4, 8, 1, { layoutB: 'nk' }),
];

/** Kinds whose WGSL uses subgroupBroadcast and assumes one subgroup of exactly WGX invocations. */
export function usesSubgroups(config: GemmConfig): boolean {
  return config.kind === 'subgroup' || config.kind === 'subgroup-register';
}

/**
 * Whether a configuration runs on this adapter: subgroup kinds need the 'subgroups' feature and a
 * subgroup size pinned to WGX (min = max = WGX), since invocation s of the workgroup must be
 * subgroup lane s for the broadcasts to hand out the right rows.
 */
export function gemmConfigSupported(ctx: GpuContext, config: GemmConfig): boolean {
  if (!usesSubgroups(config)) return true;
  const { subgroupMinSize, subgroupMaxSize } = ctx.report;
  return ctx.hasSubgroups && subgroupMinSize === config.wgx && subgroupMaxSize === config.wgx && config.wgy === 1;
}

/** Default configurations before any tuning (picked from the lavapipe measurements in the README);
 *  the subgroup one where the adapter supports it. */
const DEFAULT_LARGE = 'reg-8x4-w8x1';
const DEFAULT_LARGE_SUBGROUP = 'sgr-16x4-w8x1';
const DEFAULT_SKINNY = 'reg-4x4-w8x1';

/** Configurations worth trying for a shape: skinny shapes skip blocks far taller than m. */
export function candidateConfigs(shape: GemmShape): GemmConfig[] {
  const skinny = shape.m <= SKINNY_MAX_M;
  return GEMM_CONFIGS.filter((c) => {
    const { bm } = workgroupTile(c);
    if (skinny) return bm <= Math.max(8, 2 * shape.m) || c.tm <= 2;
    return c.tm >= 4;
  });
}

export function findConfig(id: string): GemmConfig {
  const c = GEMM_CONFIGS.find((x) => x.id === id);
  if (!c) throw new UserError(`unknown GEMM config '${id}' (known: ${GEMM_CONFIGS.map((x) => x.id).join(', ')})`);
  return c;
}

export function gemmFlops(shape: GemmShape): number {
  return 2 * shape.m * shape.n * shape.k;
}

/** Minimum DRAM bytes: A and B read once, C written once (split-K partials are extra traffic). */
export function gemmBytes(shape: GemmShape, dtype: KernelDtype): number {
  return (shape.m * shape.k + shape.k * shape.n + shape.m * shape.n) * BYTES_PER[dtype];
}

export function gemmKernelClass(shape: GemmShape): 'gemm' | 'gemm-skinny' {
  return shape.m <= SKINNY_MAX_M ? 'gemm-skinny' : 'gemm';
}

/**
 * Split count for a shape: skinny shapes split K until about 256 workgroups exist (enough to fill a
 * GPU's cores; a CPU adapter gains nothing, which the tuner finds out), keeping >= 128 K per split.
 */
export function defaultSplitK(shape: GemmShape, config: GemmConfig): number {
  if (shape.m > SKINNY_MAX_M) return 1;
  const { bm, bn } = workgroupTile(config);
  const tiles = Math.ceil(shape.m / bm) * Math.ceil(shape.n / bn);
  return Math.max(1, Math.min(Math.ceil(256 / tiles), Math.floor(shape.k / 128), 32));
}

/** K per split, a multiple of 4 so vec4 loads stay aligned; and the split count it implies. */
export function splitRange(k: number, splitK: number): { kSplit: number; splits: number } {
  const kSplit = Math.max(4, Math.ceil(k / Math.max(1, splitK) / 4) * 4);
  return { kSplit, splits: Math.ceil(k / kSplit) };
}

/** float64 reference: C = A x B with B in the given stored layout. */
export function gemmReference(a: ArrayLike<number>, b: ArrayLike<number>, shape: GemmShape, layoutB: GemmLayoutB): Float64Array {
  return gemmReferenceWithScale(a, b, shape, layoutB).c;
}

/**
 * float64 reference C = A x B and the scale |A| x |B| (element-wise absolute values) that bounds
 * the rounding error of any summation order of each dot product.
 */
export function gemmReferenceWithScale(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: GemmShape,
  layoutB: GemmLayoutB,
): { c: Float64Array; scale: Float64Array } {
  const { m, n, k } = shape;
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  const bt = new Float64Array(k * n); // B as [k][n] in float64
  for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) bt[kk * n + j] = layoutB === 'kn' ? b[kk * n + j] : b[j * k + kk];
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let kk = 0; kk < k; kk++) {
      const av = a[i * k + kk];
      const aa = Math.abs(av);
      const br = kk * n;
      for (let j = 0; j < n; j++) {
        const bv = bt[br + j];
        c[row + j] += av * bv;
        scale[row + j] += aa * Math.abs(bv);
      }
    }
  }
  return { c, scale };
}

/**
 * GEMM error: the largest |got - want| / (|A| x |B|) over the elements (the normwise-per-element
 * measure BLAS tests use). A plain relative error is meaningless for elements that cancel to near
 * zero, and grows with K for any f32 summation order; this one stays near K^0.5 * eps. A NaN or a
 * poisoned element gives Infinity.
 */
export function gemmError(got: ArrayLike<number>, ref: { c: Float64Array; scale: Float64Array }): number {
  return maxScaledError(got, ref.c, ref.scale);
}

export function compareGemm(got: ArrayLike<number>, ref: { c: Float64Array; scale: Float64Array }, dtype: KernelDtype): { relError: number; ok: boolean } {
  const relError = gemmError(got, ref);
  return { relError, ok: relError <= tolerance(dtype) };
}

/** Inputs on the device plus their host copies (values as the GPU sees them, f16-rounded for f16). */
interface GemmInputs {
  shape: GemmShape;
  dtype: KernelDtype;
  layoutB: GemmLayoutB;
  a: GPUBuffer;
  b: GPUBuffer;
  aHost: Float64Array;
  bHost: Float64Array;
  reference(): { c: Float64Array; scale: Float64Array };
  destroy(): void;
}

function validateShape(shape: GemmShape): void {
  for (const key of ['m', 'n', 'k'] as const) {
    const v = shape[key];
    if (!Number.isInteger(v) || v < 1) throw new UserError(`GEMM ${key} must be a whole number >= 1, got ${v}`);
  }
  if (shape.splitK !== undefined && (!Number.isInteger(shape.splitK) || shape.splitK < 1)) {
    throw new UserError(`GEMM splitK must be a whole number >= 1, got ${shape.splitK}`);
  }
}

function requireF16(ctx: GpuContext, dtype: KernelDtype): void {
  if (dtype === 'f16' && !ctx.hasF16) throw new UserError('this adapter has no shader-f16: f16 GEMM unavailable');
}

function makeInputs(ctx: GpuContext, shape: GemmShape, dtype: KernelDtype, layoutB: GemmLayoutB): GemmInputs {
  const rng = mulberry32(freshSeed());
  const { m, n, k } = shape;
  const aRaw = randomFloat32(m * k, rng);
  const bLogical = randomFloat32(k * n, rng); // [k][n]
  const bRaw = layoutB === 'kn' ? bLogical : new Float32Array(k * n);
  if (layoutB === 'nk') for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) bRaw[j * k + kk] = bLogical[kk * n + j];
  let aHost: Float64Array;
  let bHost: Float64Array;
  let a: GPUBuffer;
  let b: GPUBuffer;
  if (dtype === 'f16') {
    const ah = toHalfArray(aRaw);
    const bh = toHalfArray(bRaw);
    aHost = fromHalfArray(ah);
    bHost = fromHalfArray(bh);
    a = uploadBuffer(ctx, ah);
    b = uploadBuffer(ctx, bh);
  } else {
    aHost = Float64Array.from(aRaw);
    bHost = Float64Array.from(bRaw);
    a = uploadBuffer(ctx, aRaw);
    b = uploadBuffer(ctx, bRaw);
  }
  let ref: { c: Float64Array; scale: Float64Array } | undefined;
  return {
    shape,
    dtype,
    layoutB,
    a,
    b,
    aHost,
    bHost,
    reference: () => (ref ??= gemmReferenceWithScale(aHost, bHost, shape, layoutB)),
    destroy() {
      a.destroy();
      b.destroy();
    },
  };
}

const MAX_WORKGROUPS_PER_DIM = 65535;

async function buildRun(ctx: GpuContext, inputs: GemmInputs, config: GemmConfig, splitKWanted?: number): Promise<KernelRun> {
  const { shape, dtype } = inputs;
  const { m, n, k } = shape;
  const vecA = k % 4 === 0;
  const vecB = config.layoutB === 'kn' ? n % 4 === 0 : k % 4 === 0;
  const { kSplit, splits } = splitRange(k, splitKWanted ?? shape.splitK ?? defaultSplitK(shape, config));
  const partial = splits > 1;
  const { bm, bn } = workgroupTile(config);
  const workgroups: [number, number, number] = [Math.ceil(n / bn), Math.ceil(m / bm), splits];
  if (workgroups[0] > MAX_WORKGROUPS_PER_DIM || workgroups[1] > MAX_WORKGROUPS_PER_DIM) {
    throw new UserError(`GEMM ${m}x${n}x${k} needs ${workgroups[0]}x${workgroups[1]} workgroups with ${config.id}: too many`);
  }
  const code = gemmKernel(config, { dtype, vecA, vecB, partial });
  const pipeline = await createPipelineChecked(ctx, code, { M: m, N: n, K: k, K_SPLIT: kSplit });
  const outBytes = m * n * BYTES_PER[dtype];
  const c = createBuffer(ctx, outBytes);
  const buffers: GPUBuffer[] = [c];
  const iteration: Dispatch[] = [];
  let partials: GPUBuffer | undefined;
  if (partial) {
    partials = createBuffer(ctx, splits * m * n * 4);
    buffers.push(partials);
    iteration.push({ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [inputs.a, inputs.b, partials])], workgroups });
    const reduceCode = withElementType(loadWgsl('gemm-reduce'), 'T', dtype);
    const reduce = await createPipelineChecked(ctx, reduceCode, { MN: m * n, SPLITS: splits, WG: 64 });
    iteration.push({ pipeline: reduce, bindGroups: [bindBuffers(ctx, reduce, [partials, c])], workgroups: grid(ctx, Math.ceil((m * n) / 64)) });
  } else {
    iteration.push({ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [inputs.a, inputs.b, c])], workgroups });
  }
  const runShape: GemmShape = { m, n, k, splitK: splits };
  return {
    kernel: `gemm-${dtype}`,
    kernelClass: gemmKernelClass(shape),
    shape: { m, n, k, splitK: splits, layoutB: config.layoutB },
    dtype,
    flops: gemmFlops(runShape),
    bytes: gemmBytes(runShape, dtype),
    variant: `${config.id}${partial ? `-split${splits}` : ''}`,
    iteration,
    async verify() {
      const poison = dtype === 'f16' ? POISON_F16 : POISON_F32;
      poisonBuffer(ctx, c, outBytes, poison);
      if (partials) poisonBuffer(ctx, partials, splits * m * n * 4, POISON_F32);
      await runOnce(ctx, iteration);
      const got = decodeFrom(await readBuffer(ctx, c, outBytes), dtype);
      return compareGemm(got, inputs.reference(), dtype);
    },
    destroy() {
      for (const buffer of buffers) buffer.destroy();
    },
  };
}

/** Best configuration found per (adapter, dtype, shape class), filled by tuneGemm. */
const tunedBest = new Map<string, { config: GemmConfig; splitK: number }>();

/** Shape class for the tuning cache: skinny or not, and whether vec4 loads apply. */
export function gemmShapeClass(shape: GemmShape): string {
  const size = shape.m <= SKINNY_MAX_M ? 'skinny' : 'large';
  return `${size}-${shape.k % 4 === 0 && shape.n % 4 === 0 ? 'vec4' : 'scalar'}`;
}

function cacheKey(ctx: GpuContext, shape: GemmShape, dtype: KernelDtype): string {
  return `${ctx.report.description}|${ctx.report.backend}|${dtype}|${gemmShapeClass(shape)}`;
}

/**
 * One GEMM with fresh random inputs. `config`: a GemmConfig or its id; default: the tuned best for
 * this adapter and shape class if tuneGemm ran, else a fixed default.
 */
export async function prepareGemm(
  ctx: GpuContext,
  shape: GemmShape,
  dtype: KernelDtype,
  config?: GemmConfig | string,
): Promise<KernelRun> {
  validateShape(shape);
  requireF16(ctx, dtype);
  let chosen: GemmConfig;
  let splitK = shape.splitK;
  if (config !== undefined) {
    chosen = typeof config === 'string' ? findConfig(config) : config;
    if (!gemmConfigSupported(ctx, chosen)) {
      const { subgroupMinSize: lo, subgroupMaxSize: hi } = ctx.report;
      throw new UserError(`GEMM config '${chosen.id}' needs the subgroups feature with subgroups of exactly ${chosen.wgx} invocations (this adapter: ${ctx.hasSubgroups ? `${lo ?? '?'}..${hi ?? '?'}` : 'no subgroups'})`);
    }
  } else {
    const tuned = tunedBest.get(cacheKey(ctx, shape, dtype));
    const large = findConfig(DEFAULT_LARGE_SUBGROUP);
    const fallback = shape.m <= SKINNY_MAX_M ? findConfig(DEFAULT_SKINNY) : gemmConfigSupported(ctx, large) ? large : findConfig(DEFAULT_LARGE);
    chosen = tuned?.config ?? fallback;
    if (splitK === undefined && tuned && shape.m <= SKINNY_MAX_M) splitK = tuned.splitK > 1 ? defaultSplitK(shape, chosen) : 1;
  }
  const inputs = makeInputs(ctx, shape, dtype, chosen.layoutB);
  try {
    const run = await buildRun(ctx, inputs, chosen, splitK);
    const destroy = run.destroy;
    return { ...run, destroy: () => (destroy(), inputs.destroy()) };
  } catch (err) {
    inputs.destroy();
    throw err;
  }
}

export interface GemmTrial {
  variant: string;
  /** median seconds per iteration; null when it failed verification or to compile */
  seconds: number | null;
  flopsPerS: number | null;
  relError: number;
  ok: boolean;
  error?: string;
}

export interface GemmTuneResult {
  /** the fastest run that verified (kept alive: the caller destroys it) */
  best: KernelRun;
  bestSeconds: number;
  trials: GemmTrial[];
}

export interface GemmTuneOptions {
  /** configurations to try (default: candidateConfigs(shape)) */
  configs?: readonly GemmConfig[];
  timing?: TimingOptions;
}

/**
 * Tries each configuration (and for skinny shapes split-K on and off) on one set of inputs per
 * B layout, verifies each against the float64 reference, times the ones that verify, keeps the
 * fastest, and caches it for (adapter, dtype, shape class) so later prepareGemm calls use it.
 */
export async function tuneGemm(ctx: GpuContext, shape: GemmShape, dtype: KernelDtype, opts: GemmTuneOptions = {}): Promise<GemmTuneResult> {
  validateShape(shape);
  requireF16(ctx, dtype);
  const configs = (opts.configs ?? candidateConfigs(shape)).filter((c) => gemmConfigSupported(ctx, c));
  if (configs.length === 0) throw new UserError('tuneGemm: no configurations to try');
  const inputsByLayout = new Map<GemmLayoutB, GemmInputs>();
  const trials: GemmTrial[] = [];
  let best: { run: KernelRun; seconds: number; config: GemmConfig; splitK: number } | undefined;
  try {
    for (const config of configs) {
      let inputs = inputsByLayout.get(config.layoutB);
      if (!inputs) inputsByLayout.set(config.layoutB, (inputs = makeInputs(ctx, shape, dtype, config.layoutB)));
      const splitOptions = shape.splitK !== undefined ? [shape.splitK] : [...new Set([1, defaultSplitK(shape, config)])];
      for (const splitK of splitOptions) {
        let run: KernelRun | undefined;
        try {
          run = await buildRun(ctx, inputs, config, splitK);
          const { relError, ok } = await run.verify();
          if (!ok) {
            trials.push({ variant: run.variant!, seconds: null, flopsPerS: null, relError, ok });
            run.destroy();
            continue;
          }
          const t = await timeIteration(ctx, run.iteration, opts.timing);
          trials.push({ variant: run.variant!, seconds: t.medianS, flopsPerS: run.flops / t.medianS, relError, ok });
          if (!best || t.medianS < best.seconds) {
            best?.run.destroy();
            best = { run, seconds: t.medianS, config, splitK };
          } else run.destroy();
        } catch (err) {
          run?.destroy();
          if (err instanceof UserError) throw err;
          trials.push({ variant: config.id, seconds: null, flopsPerS: null, relError: Infinity, ok: false, error: (err as Error).message });
        }
      }
    }
  } finally {
    // inputs used by the kept run stay alive with it; the others go now
    for (const inputs of inputsByLayout.values()) if (!best || inputs.layoutB !== best.config.layoutB) inputs.destroy();
  }
  if (!best) throw new Error(`tuneGemm: no configuration verified for ${shape.m}x${shape.n}x${shape.k} ${dtype}`);
  tunedBest.set(cacheKey(ctx, shape, dtype), { config: best.config, splitK: best.splitK });
  const keptInputs = inputsByLayout.get(best.config.layoutB)!;
  const kept = best.run;
  const destroyRun = kept.destroy;
  return {
    best: { ...kept, destroy: () => (destroyRun(), keptInputs.destroy()) },
    bestSeconds: best.seconds,
    trials,
  };
}

/**
 * Tunes at several shapes of one shape class and keeps, for the class, the configuration (and
 * split-K use) with the smallest geometric mean of its time over the fastest time at each shape,
 * among those that verified at all of them. One shape is not enough: on lavapipe sgr-32x4-w8x1,
 * within a few percent of sgr-16x4-w8x1-nk at 512^3, ran a 96x4096x768 GEMM in 79-83 ms against
 * 52-55 ms, and the class curve fitted on it missed that prefill GEMM by 21-24%.
 */
export async function tuneGemmClass(ctx: GpuContext, shapes: readonly GemmShape[], dtype: KernelDtype, opts: GemmTuneOptions = {}): Promise<{ variant: string; slowdown: number }> {
  if (shapes.length === 0 || new Set(shapes.map(gemmShapeClass)).size !== 1) throw new Error('tuneGemmClass: give shapes of one shape class');
  // a variant's key without its split count (which depends on the shape): config id, split or not
  const key = (variant: string) => variant.replace(/-split\d+$/, '-split');
  const ratios = new Map<string, number[]>();
  for (const shape of shapes) {
    const r = await tuneGemm(ctx, shape, dtype, opts);
    r.best.destroy();
    for (const t of r.trials) if (t.ok && t.seconds !== null) ratios.set(key(t.variant), [...(ratios.get(key(t.variant)) ?? []), t.seconds / r.bestSeconds]);
  }
  let best: { variant: string; slowdown: number } | undefined;
  for (const [variant, rs] of ratios) {
    if (rs.length !== shapes.length) continue;
    const slowdown = Math.exp(rs.reduce((a, x) => a + Math.log(x), 0) / rs.length);
    if (!best || slowdown < best.slowdown) best = { variant, slowdown };
  }
  if (!best) throw new Error(`tuneGemmClass: no configuration verified at every shape (${dtype})`);
  const split = best.variant.endsWith('-split');
  const config = findConfig(split ? best.variant.slice(0, -'-split'.length) : best.variant);
  // split or not, as tuneGemm keeps it (prepareGemm sizes the split for each shape)
  const shape = shapes[0];
  tunedBest.set(cacheKey(ctx, shape, dtype), { config, splitK: split ? defaultSplitK(shape, config) : 1 });
  return best;
}

/** Forgets tuned configurations (tests; a new adapter session). */
export function clearGemmTuning(): void {
  tunedBest.clear();
}

/**
 * Shapes the calibration suite runs. LLM layer shapes scaled to what a software adapter finishes in
 * the time budget: decode (skinny M 1, 4, 16, 64 with split-K against a 2048-wide layer), square
 * 256..1024 prefill-like GEMMs, and rectangular ones (QKV/MLP-like aspect ratios).
 * quick: about 40 s in all on lavapipe; full adds larger shapes.
 */
export function gemmCases(mode: 'quick' | 'full'): GemmShape[] {
  const quick: GemmShape[] = [
    { m: 1, n: 2048, k: 2048 },
    { m: 4, n: 2048, k: 2048 },
    { m: 16, n: 2048, k: 2048 },
    { m: 64, n: 2048, k: 2048 },
    { m: 256, n: 256, k: 256 },
    { m: 512, n: 512, k: 512 },
    { m: 1024, n: 1024, k: 1024 },
    { m: 512, n: 2048, k: 512 },
    // small shapes, so the fitted fixed time per GEMM is measured rather than extrapolated
    { m: 128, n: 128, k: 128 },
    { m: 128, n: 512, k: 256 },
    { m: 1, n: 256, k: 256 },
    { m: 1, n: 1024, k: 512 },
    { m: 16, n: 512, k: 512 },
  ];
  if (mode === 'quick') return quick;
  return [
    ...quick,
    { m: 1, n: 4096, k: 4096 },
    { m: 16, n: 4096, k: 4096 },
    // short prompts (M 32-64) on small layers, where the skinny curve's compute side is used
    { m: 32, n: 1024, k: 256 },
    { m: 64, n: 512, k: 512 },
    { m: 768, n: 768, k: 768 },
    { m: 512, n: 512, k: 2048 },
    { m: 1024, n: 3072, k: 1024 },
    { m: 2048, n: 2048, k: 2048 },
  ];
}
