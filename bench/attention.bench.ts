/**
 * Attention benchmark: flash prefill (every configuration in PREFILL_CONFIGS) at SEQ tokens, head dims
 * 128 (GQA 4:1, 4 heads) and 64 (8 heads, 2 KV heads), against the f32 FMA ceiling (the calibration's
 * mixbench kernel at 128 FMAs per element, and the plain `fma` kernel) measured in the same run just
 * before and after; split-KV decode over a KV cache against a plain stream read of the same bytes.
 * GPU timestamps, median of the repeats; only kernels that verify against the float64 reference are
 * timed. Compile time = pipeline creation plus the first (verifying) dispatch, wall clock.
 * Standalone: `npx tsx bench/attention.bench.ts [SEQ] [KVLEN] [DIMS]` (defaults 1024, 4096 and
 * 128,64; KVLEN 0 skips decode; PREFILL_KINDS=rows,lanes picks configurations); bench/run.ts
 * may import addAttentionBenchmarks (tinybench wall time per verified dispatch batch).
 */
import { Bench } from 'tinybench';
import { pathToFileURL } from 'node:url';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { runOnce, timeIteration } from '../src/gpu/timing.js';
import { prepareFma, prepareMixbench } from '../src/kernels/fma.js';
import { prepareStream } from '../src/kernels/stream.js';
import { PREFILL_CONFIGS, prepareAttentionDecode, prepareAttentionPrefill } from '../src/kernels/attention.js';
import type { KernelRun } from '../src/kernels/types.js';

async function medianS(ctx: GpuContext, run: KernelRun): Promise<number> {
  const t = await timeIteration(ctx, run.iteration, { repeats: 5, warmup: 1, minPassS: 0.005, maxPassS: 0.05 });
  return t.medianS;
}

async function flopRate(ctx: GpuContext, run: KernelRun): Promise<number> {
  try {
    if (!(await run.verify()).ok) throw new Error(`${run.kernel} failed verification`);
    return run.flops / (await medianS(ctx, run));
  } finally {
    run.destroy();
  }
}

/** f32 FMA ceilings: mixbench at 128 FMAs per element (the calibration's ceiling) and plain `fma`. */
async function fmaCeilings(ctx: GpuContext): Promise<{ mixbench: number; fma: number }> {
  const fmas = 128;
  const elems = Math.floor(1.2e8 / (8 * fmas) / 256) * 256;
  const mixbench = await flopRate(ctx, await prepareMixbench(ctx, { elems, fmas }, 'f32'));
  const fma = await flopRate(ctx, await prepareFma(ctx, { threads: 64 * 512, iters: 1024 }, 'f32'));
  return { mixbench, fma };
}

const gflops = (x: number) => (x / 1e9).toFixed(2);

export async function benchPrefill(ctx: GpuContext, seq: number, headDims: number[] = [128, 64]): Promise<void> {
  const kinds = process.env.PREFILL_KINDS?.split(',');
  const configs = PREFILL_CONFIGS.filter((c) => !kinds || kinds.includes(c.kind));
  const before = await fmaCeilings(ctx);
  console.log(`f32 FMA ceiling before: mixbench ${gflops(before.mixbench)} GFLOP/s, plain fma ${gflops(before.fma)} GFLOP/s`);
  const results: { line: string; rate: number }[] = [];
  for (const headDim of headDims) {
    const heads = headDim >= 128 ? { numHeads: 4, numKvHeads: 1 } : { numHeads: 8, numKvHeads: 2 };
    for (const config of configs) {
      const t0 = performance.now();
      const run = await prepareAttentionPrefill(ctx, { seq, ...heads, headDim }, 'f32', config);
      try {
        const v = await run.verify();
        const compileS = (performance.now() - t0) / 1e3;
        const name = `prefill seq ${seq} d${headDim} h${heads.numHeads} kv${heads.numKvHeads} ${run.variant}`;
        if (!v.ok) {
          console.log(`${name}: failed verification (relError ${v.relError})`);
          continue;
        }
        const s = await medianS(ctx, run);
        const rate = run.flops / s;
        const line = `${name}: ${(s * 1e3).toFixed(1)} ms, ${gflops(rate)} GFLOP/s, compile+verify ${compileS.toFixed(1)} s, relError ${v.relError.toExponential(1)}`;
        console.log(line);
        results.push({ line, rate });
      } finally {
        run.destroy();
      }
    }
  }
  const after = await fmaCeilings(ctx);
  console.log(`f32 FMA ceiling after: mixbench ${gflops(after.mixbench)} GFLOP/s, plain fma ${gflops(after.fma)} GFLOP/s`);
  const mix = (before.mixbench + after.mixbench) / 2;
  for (const r of results) console.log(`  ${((100 * r.rate) / mix).toFixed(1)}% of mixbench (mean of before/after ${gflops(mix)}): ${r.line}`);
}

export async function benchDecode(ctx: GpuContext, kvLen: number): Promise<void> {
  const run = await prepareAttentionDecode(ctx, { batch: 1, kvLen, numHeads: 8, numKvHeads: 2, headDim: 128 }, 'f32');
  const stream = await prepareStream(ctx, 'read', { elems: Math.ceil(run.bytes / 16) * 4 });
  try {
    const v = await run.verify();
    const s = await medianS(ctx, run);
    const sv = await stream.verify();
    const ss = await medianS(ctx, stream);
    const bw = run.bytes / s;
    const sbw = stream.bytes / ss;
    console.log(`decode kv ${kvLen} d128 h8 kv2 ${run.variant}: ${(s * 1e3).toFixed(2)} ms, ${(bw / 1e9).toFixed(2)} GB/s (relError ${v.relError.toExponential(1)}); stream read ${stream.variant}: ${(sbw / 1e9).toFixed(2)} GB/s (${sv.ok ? 'verified' : 'UNVERIFIED'}); ${((100 * bw) / sbw).toFixed(0)}% of it`);
  } finally {
    run.destroy();
    stream.destroy();
  }
}

/** tinybench tasks: wall time of one verified prefill (seq 256) and decode (kv 2048) dispatch batch. */
export async function addAttentionBenchmarks(bench: Bench, ctx?: GpuContext): Promise<() => void> {
  if (!ctx) throw new Error('attention benchmarks need a GPU context');
  const prefill = await prepareAttentionPrefill(ctx, { seq: 256, numHeads: 4, numKvHeads: 1, headDim: 128 }, 'f32');
  const decode = await prepareAttentionDecode(ctx, { batch: 1, kvLen: 2048, numHeads: 8, numKvHeads: 2, headDim: 128 }, 'f32');
  for (const run of [prefill, decode]) {
    if (!(await run.verify()).ok) throw new Error(`${run.kernel} failed verification`);
    bench.add(`${run.kernel} ${JSON.stringify(run.shape)}`, () => runOnce(ctx, run.iteration));
  }
  return () => {
    prefill.destroy();
    decode.destroy();
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const seq = Number(process.argv[2] ?? 1024);
  const kvLen = Number(process.argv[3] ?? 4096);
  const headDims = (process.argv[4] ?? '128,64').split(',').map(Number);
  const ctx = await openGpu();
  try {
    await benchPrefill(ctx, seq, headDims);
    if (kvLen > 0) await benchDecode(ctx, kvLen);
  } finally {
    ctx.close();
  }
}
