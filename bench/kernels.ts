/**
 * Kernel benchmarks (tinybench): wall time of one verified dispatch batch (submit to completion,
 * so dawn.node's per-submit cost is included: GPU time is what `roofcast calibrate` reports), and
 * the calibration fits on synthetic data. Standalone: `npx tsx bench/kernels.ts`.
 */
import { Bench } from 'tinybench';
import { pathToFileURL } from 'node:url';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { runOnce } from '../src/gpu/timing.js';
import { prepareFma } from '../src/kernels/fma.js';
import { prepareBufferCopy, prepareStream } from '../src/kernels/stream.js';
import { prepareDispatch } from '../src/kernels/dispatch.js';
import type { KernelRun } from '../src/kernels/types.js';
import { fitBandwidth, fitSaturating } from '../src/calibrate/fit.js';
import { mulberry32 } from '../src/kernels/verify.js';

/** iterations submitted together per task call */
export const KERNEL_BATCH = 8;

async function verifiedRun(run: KernelRun): Promise<KernelRun> {
  const v = await run.verify();
  if (!v.ok) throw new Error(`${run.kernel} failed verification (relError ${v.relError})`);
  return run;
}

/** GPU tasks: one batch of KERNEL_BATCH iterations per call, submit to completion. */
export async function addKernelBenchmarks(bench: Bench, ctx: GpuContext): Promise<() => void> {
  const runs = [
    await verifiedRun(await prepareFma(ctx, { threads: 4096, iters: 256 }, 'f32')),
    await verifiedRun(await prepareStream(ctx, 'copy', { elems: 1 << 20 })),
    await verifiedRun(await prepareStream(ctx, 'triad', { elems: 1 << 20 })),
    await verifiedRun(await prepareDispatch(ctx, { workgroups: 1, dispatches: 16 })),
  ];
  for (const run of runs) {
    const batch = Array.from({ length: KERNEL_BATCH }, () => run.iteration).flat();
    const shape = Object.entries(run.shape).map(([k, v]) => `${k}=${v}`).join(' ');
    bench.add(`${run.kernel} ${shape} (x${KERNEL_BATCH})`, async () => {
      await runOnce(ctx, batch);
    });
  }
  const b2b = await prepareBufferCopy(ctx, { elems: 1 << 20 });
  if (!(await b2b.verify()).ok) throw new Error('copyBufferToBuffer failed verification');
  bench.add(`copy-buffer-to-buffer 4MiB (x${KERNEL_BATCH})`, async () => {
    const encoder = ctx.device.createCommandEncoder();
    b2b.encode(encoder, KERNEL_BATCH);
    ctx.device.queue.submit([encoder.finish()]);
    await ctx.device.queue.onSubmittedWorkDone();
  });
  return () => {
    for (const run of runs) run.destroy();
    b2b.destroy();
  };
}

/** CPU tasks: the fits on synthetic data the size of a full calibration. */
export function addFitBenchmarks(bench: Bench): void {
  const rng = mulberry32(42);
  const points = Array.from({ length: 40 }, (_, i) => {
    const work = 1e5 * 1.4 ** i;
    const rooflineS = work / 30e9;
    return { work, rooflineS, seconds: (20e-6 + rooflineS / 0.6) * (1 + 0.05 * (rng() - 0.5)) };
  });
  const curve = Array.from({ length: 4 * 14 }, (_, i) => {
    const ws = 65536 * 2 ** (i % 14);
    return { workingSetBytes: ws, bytesPerS: ws / (20e-6 + ws / (ws < 32 << 20 ? 40e9 : 10e9)) };
  });
  bench.add('fitSaturating, 40 points', () => {
    fitSaturating('gemm', 'flops', points);
  });
  bench.add('fitBandwidth, 4 ops x 14 working sets', () => {
    fitBandwidth(curve);
  });
}

async function main(): Promise<void> {
  const ctx = await openGpu();
  try {
    const bench = new Bench({ time: 1000 });
    const cleanup = await addKernelBenchmarks(bench, ctx);
    addFitBenchmarks(bench);
    await bench.run();
    console.table(bench.table());
    cleanup();
  } finally {
    ctx.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
