/**
 * Attention benchmark: flash prefill (every configuration in PREFILL_CONFIGS) at SEQ tokens, head dim
 * 128, GQA 4:1, against the f32 FMA ceiling measured right before; split-KV decode over a KV cache
 * against a plain stream read of the same bytes. GPU timestamps, median of the repeats; only
 * kernels that verify against the float64 reference are timed.
 * Standalone: `npx tsx bench/attention.bench.ts [SEQ] [KVLEN]` (defaults 1024 and 4096); bench/run.ts
 * may import addAttentionBenchmarks (tinybench wall time per verified dispatch batch).
 */
import { Bench } from 'tinybench';
import { pathToFileURL } from 'node:url';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { runOnce, timeIteration } from '../src/gpu/timing.js';
import { prepareFma } from '../src/kernels/fma.js';
import { prepareStream } from '../src/kernels/stream.js';
import { PREFILL_CONFIGS, prepareAttentionDecode, prepareAttentionPrefill } from '../src/kernels/attention.js';
import type { KernelRun } from '../src/kernels/types.js';

async function medianS(ctx: GpuContext, run: KernelRun): Promise<number> {
  const t = await timeIteration(ctx, run.iteration, { repeats: 5, warmup: 1, minPassS: 0.005, maxPassS: 0.05 });
  return t.medianS;
}

async function fmaCeiling(ctx: GpuContext): Promise<number> {
  const run = await prepareFma(ctx, { threads: 64 * 512, iters: 1024 }, 'f32');
  try {
    return run.flops / (await medianS(ctx, run));
  } finally {
    run.destroy();
  }
}

export async function benchPrefill(ctx: GpuContext, seq: number): Promise<void> {
  const fma = await fmaCeiling(ctx);
  console.log(`f32 FMA ceiling: ${(fma / 1e9).toFixed(2)} GFLOP/s`);
  for (const config of PREFILL_CONFIGS) {
    const run = await prepareAttentionPrefill(ctx, { seq, numHeads: 4, numKvHeads: 1, headDim: 128 }, 'f32', config);
    try {
      const v = await run.verify();
      if (!v.ok) {
        console.log(`${run.variant}: failed verification (relError ${v.relError})`);
        continue;
      }
      const s = await medianS(ctx, run);
      const gf = run.flops / s;
      console.log(`prefill seq ${seq} d128 h4 kv1 ${run.variant}: ${(s * 1e3).toFixed(1)} ms, ${(gf / 1e9).toFixed(2)} GFLOP/s, ${((100 * gf) / fma).toFixed(1)}% of FMA, relError ${v.relError.toExponential(1)}`);
    } finally {
      run.destroy();
    }
  }
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
  const ctx = await openGpu();
  try {
    await benchPrefill(ctx, seq);
    await benchDecode(ctx, kvLen);
  } finally {
    ctx.close();
  }
}
