/**
 * GEMM benchmark: every tile configuration at SIZE^3 f32 (GPU timestamps, median of the repeats)
 * against the measured f32 FMA ceiling (src/kernels/fma.ts: mixbench at 128 FMA per element, the
 * calibration's ceiling; the plain `fma` kernel is printed too), skinny decode shapes with and
 * without split-K, and a tinybench task of wall time per verified dispatch batch.
 * Standalone: `npx tsx bench/gemm.bench.ts [SIZE] [all|square|skinny]` (default 1024 all); bench/run.ts may import
 * addGemmBenchmarks. Only configurations that verify against the float64 reference are timed.
 */
import { Bench } from 'tinybench';
import { pathToFileURL } from 'node:url';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { runOnce, timeIteration } from '../src/gpu/timing.js';
import { prepareFma, prepareMixbench } from '../src/kernels/fma.js';
import { GEMM_CONFIGS, findConfig, gemmConfigSupported, prepareGemm, type GemmShape } from '../src/kernels/gemm.js';
import { hasSubgroupMatrix, prepareGemmSubgroupMatrix } from '../src/kernels/gemm-subgroup-matrix.js';
import type { KernelRun } from '../src/kernels/types.js';

export interface GemmBenchRow {
  shape: string;
  variant: string;
  /** median and fastest seconds per iteration */
  seconds: number;
  minSeconds: number;
  gflopsPerS: number;
  /** f32 FMA ceiling (mixbench, 128 FMA per element) measured right before and after this kernel
   *  (mean of the two medians) */
  fmaFlopsPerS: number;
  /** the plain `fma` kernel, measured at the same moments (about half the mixbench rate on lavapipe) */
  plainFmaFlopsPerS: number;
  /** percent of the mixbench FMA ceiling, median against median */
  pctFma: number;
  relError: number;
}

/**
 * Verifies, then times `run` between two FMA-ceiling measurements: on a shared machine the load
 * drifts, so the percentage compares the kernel with the ceiling measured at the same moment.
 */
async function timed(ctx: GpuContext, run: KernelRun): Promise<GemmBenchRow | null> {
  try {
    const v = await run.verify();
    if (!v.ok) {
      process.stderr.write(`${run.variant}: failed verification (relError ${v.relError})\n`);
      return null;
    }
    const before = await measureFmaCeilings(ctx);
    const t = await timeIteration(ctx, run.iteration, { repeats: 5, warmup: 1 });
    const after = await measureFmaCeilings(ctx);
    const fma = (before.mixbench + after.mixbench) / 2;
    const s = run.shape;
    return {
      shape: `${s.m}x${s.n}x${s.k} ${run.dtype}`,
      variant: run.variant ?? '',
      seconds: t.medianS,
      minSeconds: t.minS,
      gflopsPerS: run.flops / t.medianS / 1e9,
      fmaFlopsPerS: fma,
      plainFmaFlopsPerS: (before.plain + after.plain) / 2,
      pctFma: (100 * run.flops) / t.medianS / fma,
      relError: v.relError,
    };
  } finally {
    run.destroy();
  }
}

async function flopRate(ctx: GpuContext, run: KernelRun): Promise<number> {
  try {
    const v = await run.verify();
    if (!v.ok) throw new Error(`${run.kernel} failed verification (${v.relError})`);
    const t = await timeIteration(ctx, run.iteration, { repeats: 5 });
    return run.flops / t.medianS;
  } finally {
    run.destroy();
  }
}

/**
 * f32 FMA ceilings in flops per second: mixbench at 128 FMA per element with the calibration's
 * element count (the ceiling the calibration reports and issue 2's target refers to) and the plain
 * `fma` kernel (dependent chains per invocation; about half the mixbench rate on lavapipe).
 */
export async function measureFmaCeilings(ctx: GpuContext): Promise<{ mixbench: number; plain: number }> {
  const fmas = 128;
  const elems = Math.floor(1.2e8 / (8 * fmas) / 256) * 256;
  const mixbench = await flopRate(ctx, await prepareMixbench(ctx, { elems, fmas }, 'f32'));
  const plain = await flopRate(ctx, await prepareFma(ctx, { threads: 64 * 512, iters: 1024 }, 'f32'));
  return { mixbench, plain };
}

/** 'square': the SIZE^3 configurations only; 'skinny': the decode shapes only (keeps each run short). */
export type GemmBenchPart = 'all' | 'square' | 'skinny';

export async function gemmBenchRows(
  ctx: GpuContext,
  size: number,
  onRow?: (row: GemmBenchRow) => void,
  part: GemmBenchPart = 'all',
): Promise<GemmBenchRow[]> {
  const rows: GemmBenchRow[] = [];
  const keep = (row: GemmBenchRow | null) => {
    if (!row) return;
    rows.push(row);
    onRow?.(row);
  };
  const square: GemmShape = { m: size, n: size, k: size, splitK: 1 };
  if (part !== 'skinny') await squareRows(ctx, square, keep);
  if (part !== 'square') await skinnyRows(ctx, keep);
  return rows;
}

async function squareRows(ctx: GpuContext, square: GemmShape, keep: (row: GemmBenchRow | null) => void): Promise<void> {
  for (const config of GEMM_CONFIGS.filter((c) => c.tm >= 4 && gemmConfigSupported(ctx, c))) {
    keep(await timed(ctx, await prepareGemm(ctx, square, 'f32', config)));
  }
  if (ctx.hasF16) {
    keep(await timed(ctx, await prepareGemm(ctx, square, 'f16', 'reg-8x4-w8x1')));
  }
  if (hasSubgroupMatrix(ctx)) {
    keep(await timed(ctx, await prepareGemmSubgroupMatrix(ctx, square)));
  }
}

/** Decode-like shapes (M 1, 16, 64 against a 2048-wide layer), with and without split-K. */
async function skinnyRows(ctx: GpuContext, keep: (row: GemmBenchRow | null) => void): Promise<void> {
  const skinnyIds = ['reg-4x4-w8x1', 'reg-8x4-w8x1', 'sgr-8x4-w8x1', 'sgr-8x4-w8x1-nk'].filter((id) => gemmConfigSupported(ctx, findConfig(id)));
  for (const m of [1, 16, 64]) {
    for (const id of skinnyIds) {
      for (const splitK of [1, 4]) {
        keep(await timed(ctx, await prepareGemm(ctx, { m, n: 2048, k: 2048, splitK }, 'f32', id)));
      }
    }
  }
}

/** tinybench: wall time of one verified 256^3 GEMM dispatch batch, submit to completion. */
export async function addGemmBenchmarks(bench: Bench, ctx: GpuContext): Promise<() => void> {
  const run = await prepareGemm(ctx, { m: 256, n: 256, k: 256, splitK: 1 }, 'f32', 'reg-8x4-w8x1');
  const v = await run.verify();
  if (!v.ok) throw new Error(`GEMM 256^3 failed verification (${v.relError})`);
  bench.add(`gemm 256^3 f32 ${run.variant} (submit + wait)`, async () => {
    await runOnce(ctx, run.iteration);
  });
  return () => run.destroy();
}

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 1024);
  const part = (process.argv[3] ?? 'all') as GemmBenchPart;
  if (!['all', 'square', 'skinny'].includes(part)) throw new Error(`part must be all, square or skinny, got '${part}'`);
  const ctx = await openGpu();
  try {
    console.log(`adapter: ${ctx.report.description} (${ctx.report.backend})`);
    console.log(['shape', 'variant', 'median ms', 'min ms', 'GFLOP/s', 'mixbench GFLOP/s', '% mixbench', 'plain fma GFLOP/s', 'err'].join('\t'));
    await gemmBenchRows(ctx, size, (r) => {
      const cells = [r.shape, r.variant, (r.seconds * 1e3).toFixed(2), (r.minSeconds * 1e3).toFixed(2), r.gflopsPerS.toFixed(2)];
      const ceilings = [(r.fmaFlopsPerS / 1e9).toFixed(2), r.pctFma.toFixed(1), (r.plainFmaFlopsPerS / 1e9).toFixed(2)];
      console.log([...cells, ...ceilings, r.relError.toExponential(1)].join('\t'));
    }, part);
    const bench = new Bench({ time: 500 });
    const cleanup = await addGemmBenchmarks(bench, ctx);
    await bench.run();
    console.table(bench.table());
    cleanup();
  } finally {
    ctx.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
