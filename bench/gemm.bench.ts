/**
 * GEMM benchmark: every tile configuration at SIZE^3 f32 (GPU timestamps, median of the repeats)
 * against the measured f32 FMA ceiling (src/kernels/fma.ts), skinny decode shapes with and without
 * split-K, and a tinybench task of wall time per verified dispatch batch.
 * Standalone: `npx tsx bench/gemm.bench.ts [SIZE]` (default 1024); bench/run.ts may import
 * addGemmBenchmarks. Only configurations that verify against the float64 reference are timed.
 */
import { Bench } from 'tinybench';
import { pathToFileURL } from 'node:url';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { runOnce, timeIteration } from '../src/gpu/timing.js';
import { prepareFma } from '../src/kernels/fma.js';
import { GEMM_CONFIGS, prepareGemm, type GemmShape } from '../src/kernels/gemm.js';
import { hasSubgroupMatrix, prepareGemmSubgroupMatrix } from '../src/kernels/gemm-subgroup-matrix.js';
import type { KernelRun } from '../src/kernels/types.js';

export interface GemmBenchRow {
  shape: string;
  variant: string;
  /** median and fastest seconds per iteration */
  seconds: number;
  minSeconds: number;
  gflopsPerS: number;
  /** f32 FMA ceiling measured right before and after this kernel (mean of the two medians) */
  fmaFlopsPerS: number;
  /** percent of that FMA ceiling, median against median */
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
    const before = await measureFmaCeiling(ctx);
    const t = await timeIteration(ctx, run.iteration, { repeats: 5, warmup: 1 });
    const fma = (before + (await measureFmaCeiling(ctx))) / 2;
    const s = run.shape;
    return {
      shape: `${s.m}x${s.n}x${s.k} ${run.dtype}`,
      variant: run.variant ?? '',
      seconds: t.medianS,
      minSeconds: t.minS,
      gflopsPerS: run.flops / t.medianS / 1e9,
      fmaFlopsPerS: fma,
      pctFma: (100 * run.flops) / t.medianS / fma,
      relError: v.relError,
    };
  } finally {
    run.destroy();
  }
}

/** The f32 FMA ceiling as the calibration measures it (flops per second). */
export async function measureFmaCeiling(ctx: GpuContext): Promise<number> {
  const run = await prepareFma(ctx, { threads: 64 * 512, iters: 1024 }, 'f32');
  try {
    const v = await run.verify();
    if (!v.ok) throw new Error(`FMA kernel failed verification (${v.relError})`);
    const t = await timeIteration(ctx, run.iteration, { repeats: 5 });
    return run.flops / t.medianS;
  } finally {
    run.destroy();
  }
}

export async function gemmBenchRows(ctx: GpuContext, size: number, onRow?: (row: GemmBenchRow) => void): Promise<GemmBenchRow[]> {
  const rows: GemmBenchRow[] = [];
  const keep = (row: GemmBenchRow | null) => {
    if (!row) return;
    rows.push(row);
    onRow?.(row);
  };
  const square: GemmShape = { m: size, n: size, k: size, splitK: 1 };
  for (const config of GEMM_CONFIGS.filter((c) => c.tm >= 4)) {
    keep(await timed(ctx, await prepareGemm(ctx, square, 'f32', config)));
  }
  if (ctx.hasF16) {
    keep(await timed(ctx, await prepareGemm(ctx, square, 'f16', 'reg-8x4-w8x1')));
  }
  if (hasSubgroupMatrix(ctx)) {
    keep(await timed(ctx, await prepareGemmSubgroupMatrix(ctx, square)));
  }
  for (const m of [1, 16, 64]) {
    for (const splitK of [1, 4]) {
      keep(await timed(ctx, await prepareGemm(ctx, { m, n: 2048, k: 2048, splitK }, 'f32', 'reg-4x4-w8x1')));
    }
  }
  return rows;
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
  const ctx = await openGpu();
  try {
    console.log(`adapter: ${ctx.report.description} (${ctx.report.backend})`);
    console.log(['shape', 'variant', 'median ms', 'min ms', 'GFLOP/s', 'FMA GFLOP/s', '% FMA', 'err'].join('\t'));
    await gemmBenchRows(ctx, size, (r) => {
      const cells = [r.shape, r.variant, (r.seconds * 1e3).toFixed(2), (r.minSeconds * 1e3).toFixed(2), r.gflopsPerS.toFixed(2)];
      console.log([...cells, (r.fmaFlopsPerS / 1e9).toFixed(2), r.pctFma.toFixed(1), r.relError.toExponential(1)].join('\t'));
    });
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
