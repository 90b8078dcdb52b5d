import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { timeIteration } from '../src/gpu/timing.js';
import { prepareFma, prepareMixbench, fmaFlops, FMA_CHAINS, mixbenchIntensity, affineSteps } from '../src/kernels/fma.js';
import { prepareStream, prepareBufferCopy, STREAM_OPS, STREAM_VARIANTS, streamBytes } from '../src/kernels/stream.js';
import { prepareDispatch } from '../src/kernels/dispatch.js';
import type { KernelRun } from '../src/kernels/types.js';
import { verified } from './helpers/kernels.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await openGpu();
});
afterAll(() => ctx?.close());


describe('fma kernels', () => {
  for (const threads of [1, 63, 333]) {
    it(`fma f32 on ${threads} threads`, async () => {
      await verified(await prepareFma(ctx, { threads, iters: 37 }, 'f32'));
    });
  }
  it('fma f16 where shader-f16', async () => {
    if (!ctx.hasF16) return;
    await verified(await prepareFma(ctx, { threads: 129, iters: 50 }, 'f16'));
  });
  for (const [elems, fmas] of [[1, 1], [257, 3], [1000, 64]]) {
    it(`mixbench f32 ${elems} elems x ${fmas} fmas`, async () => {
      await verified(await prepareMixbench(ctx, { elems, fmas }, 'f32'));
    });
  }
  it('mixbench f16 where shader-f16', async () => {
    if (!ctx.hasF16) return;
    await verified(await prepareMixbench(ctx, { elems: 301, fmas: 9 }, 'f16'));
  });
  it('counts flops and intensity', () => {
    expect(fmaFlops({ threads: 2, iters: 3 })).toBe(2 * 3 * FMA_CHAINS * 4 * 2);
    expect(mixbenchIntensity(1, 'f32')).toBe(0.25);
    expect(mixbenchIntensity(1024, 'f32')).toBe(256);
    expect(affineSteps(3, 0.5, 1, 0)).toBe(3);
    expect(affineSteps(3, 0.5, 1, 2)).toBeCloseTo(0.5 * (0.5 * 3 + 1) + 1, 12);
  });
});

describe('stream kernels', () => {
  for (const op of STREAM_OPS) {
    for (const variant of [STREAM_VARIANTS[0], STREAM_VARIANTS[2], STREAM_VARIANTS[6]]) {
      const elems = variant.elem === 'vec4' ? 4 * 1237 : 5003;
      it(`${op} ${elems} values, ${variant.elem} wg${variant.wg} per${variant.per}`, async () => {
        await verified(await prepareStream(ctx, op, { elems }, variant));
      });
    }
  }
  it('copyBufferToBuffer reference', async () => {
    await verified(await prepareBufferCopy(ctx, { elems: 4 * 999 }));
  });
  it('rejects vec4 sizes that are not a multiple of 4', async () => {
    await expect(prepareStream(ctx, 'copy', { elems: 10 }, { elem: 'vec4', wg: 64, per: 1 })).rejects.toThrow(/multiple of 4/);
  });
  it('counts bytes', () => {
    expect(streamBytes('copy', 100)).toBe(800);
    expect(streamBytes('triad', 100)).toBe(1200);
    expect(streamBytes('read', 100, 10)).toBe(440);
  });
});

describe('dispatch overhead kernel', () => {
  it('verifies and times a batch of near-empty dispatches', async () => {
    const run = await prepareDispatch(ctx, { workgroups: 3, dispatches: 5 });
    expect((await run.verify()).ok).toBe(true);
    const t = await timeIteration(ctx, run.iteration, { repeats: 3, warmup: 1, maxIterationsPerPass: 64 });
    expect(t.medianS).toBeGreaterThan(0);
    expect(t.iterationsPerPass).toBeLessThanOrEqual(64);
    run.destroy();
  });
});
