import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { perInvocation, runCase, runSuite } from '../src/calibrate/runner.js';
import { gemmBytes, prepareGemm } from '../src/kernels/gemm.js';
import { CPU_COLD_COPIES, GPU_COLD_COPIES, coldCopyCount, coldCopyPlan, prepareColdCopies } from '../src/calibrate/copies.js';
import { buildProfile } from '../src/calibrate/profile.js';
import { loadFamilies, CORE_FAMILIES, type SuiteFamily } from '../src/calibrate/suite.js';
import { prepareFma } from '../src/kernels/fma.js';
import { prepareStream, prepareBufferCopy } from '../src/kernels/stream.js';
import { prepareDispatch } from '../src/kernels/dispatch.js';
import { parseProfile } from '../src/profile/io.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await openGpu();
});
afterAll(() => ctx?.close());

const fast = { repeats: 3, warmup: 1, minPassS: 2e-4, maxPassS: 2e-3 };

/** A tiny suite with the same kernels as the real one, small enough for a test. */
const tiny: SuiteFamily[] = [
  {
    name: 'fma',
    plan: async () => [1024, 2048].map((threads) => ({ id: `fma ${threads}`, family: 'fma', prepare: (c: GpuContext) => prepareFma(c, { threads, iters: 16 }, 'f32') })),
  },
  {
    name: 'stream',
    plan: async () =>
      [4096, 65536].flatMap((elems) => [
        { id: `copy ${elems}`, family: 'stream', prepare: (c: GpuContext) => prepareStream(c, 'copy', { elems }) },
        { id: `b2b ${elems}`, family: 'stream', prepare: (c: GpuContext) => prepareBufferCopy(c, { elems }) },
        { id: `read ${elems}`, family: 'stream', prepare: (c: GpuContext) => prepareStream(c, 'read', { elems }) },
      ]),
  },
  {
    name: 'dispatch',
    plan: async () => [1, 4].map((d) => ({ id: `dispatch ${d}`, family: 'dispatch', prepare: (c: GpuContext) => prepareDispatch(c, { workgroups: 1, dispatches: d }), timing: { maxIterationsPerPass: 32 } })),
  },
];

describe('calibration runner', () => {
  it('runs a suite and builds a valid profile', async () => {
    const progress: { done: number; total: number; label: string }[] = [];
    const result = await runSuite(ctx, { mode: 'quick', familyList: tiny, timing: fast, onProgress: (p) => progress.push(p) });
    expect(result.failures).toEqual([]);
    expect(result.measurements).toHaveLength(10);
    // every case is small: kept alive and timed in 3 rounds (10 cases + 2 x 10 re-timings)
    expect(progress[progress.length - 1]).toMatchObject({ done: 30, total: 30 });
    expect(progress.some((p) => p.label.startsWith('round 3/3: '))).toBe(true);
    for (const m of result.measurements) {
      expect(m.verified).toBe(true);
      expect(m.seconds).toBeGreaterThan(0);
      expect(m.minSeconds).toBeLessThanOrEqual(m.seconds);
      expect(m.repeats).toBe(3 * fast.repeats);
    }
    const profile = buildProfile(ctx.report, ctx.toggles, result.timingMethod, result.measurements, { mode: 'quick', version: 'test', elapsedS: result.elapsedS, failures: [] });
    expect(() => parseProfile(profile)).not.toThrow();
    expect(profile.ceilings.fmaF32FlopsPerS).toBeGreaterThan(0);
    expect(Object.keys(profile.fits)).toContain('stream');
  });

  it('times each case once with rounds: 1', async () => {
    const result = await runSuite(ctx, { mode: 'quick', familyList: tiny.slice(0, 1), timing: fast, rounds: 1 });
    expect(result.measurements).toHaveLength(2);
    for (const m of result.measurements) expect(m.repeats).toBe(fast.repeats);
  });

  it('keeps no timing for a kernel that fails verification', async () => {
    const r = await runCase(
      ctx,
      {
        id: 'broken',
        family: 'fma',
        prepare: async (c) => {
          const run = await prepareFma(c, { threads: 64, iters: 4 }, 'f32');
          // the real check runs, but the result is judged against a tolerance nothing can meet
          return { ...run, verify: async () => ({ ...(await run.verify()), ok: false }) };
        },
      },
      fast,
    );
    expect(r.measurement).toBeUndefined();
    expect(r.error).toMatch(/verification failed/);
  });

  it('records a run over several invocations per invocation', async () => {
    const t = { medianS: 8e-3, minS: 6e-3, maxS: 1e-2, spreadRel: 0.5, repeats: 3, iterationsPerPass: 2, method: 'timestamp-query' as const };
    expect(perInvocation(t, 4)).toMatchObject({ medianS: 2e-3, minS: 1.5e-3, maxS: 2.5e-3, spreadRel: 0.5, repeats: 3 });
    expect(perInvocation(t)).toBe(t);
    // a GEMM over cold copies: every copy verified, the measurement one GEMM's time (about the
    // GEMM on one set of inputs), its work per GEMM
    const shape = { m: 1, n: 256, k: 256, splitK: 4 };
    const prepare = (c: GpuContext) => prepareGemm(c, shape, 'f32', 'reg-4x4-w8x1');
    const cold = await runCase(ctx, { id: 'cold', family: 'gemm', prepare, coldCopies: true }, fast);
    const hot = await runCase(ctx, { id: 'hot', family: 'gemm', prepare }, fast);
    expect(cold.measurement?.shape.copies).toBe(coldCopyCount(hot.measurement!.bytes, coldCopyPlan(ctx.report)));
    expect(cold.measurement!.bytes).toBe(hot.measurement!.bytes);
    expect(cold.measurement!.flops).toBe(hot.measurement!.flops);
    const ratio = cold.measurement!.seconds / hot.measurement!.seconds;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(3);
  });

  it('cold copies: each has its own inputs and a copy that computes wrong fails the whole run', async () => {
    expect(coldCopyCount(CPU_COLD_COPIES.bytes)).toBe(2);
    expect(coldCopyCount(1024)).toBe(CPU_COLD_COPIES.maxCopies);
    expect(coldCopyCount(CPU_COLD_COPIES.bytes / 5)).toBe(5);
    // a small kernel's copies fill the plan too (a one-row decode attention moves 35-40 KB)
    expect(coldCopyCount(40e3) * 40e3).toBeGreaterThanOrEqual(CPU_COLD_COPIES.bytes);
    // a GPU's copies go past its last-level cache: far more of them
    expect(coldCopyPlan({ architecture: 'software' })).toBe(CPU_COLD_COPIES);
    expect(coldCopyPlan({ architecture: 'hopper' })).toBe(GPU_COLD_COPIES);
    expect(coldCopyCount(2 ** 20, GPU_COLD_COPIES)).toBe(512);
    expect(coldCopyCount(2 ** 20, GPU_COLD_COPIES) * 2 ** 20).toBeGreaterThan(256e6 * 2);
    let made = 0;
    const prepare = async (c: GpuContext) => {
      const run = await prepareGemm(c, { m: 1, n: 64, k: 96, splitK: 1 }, 'f32', 'reg-4x4-w8x1');
      const broken = made++ === 3;
      return broken ? { ...run, verify: async () => ({ ...(await run.verify()), ok: false }) } : run;
    };
    const run = await prepareColdCopies(ctx, prepare);
    const copies = coldCopyCount(gemmBytes({ m: 1, n: 64, k: 96 }, 'f32'), coldCopyPlan(ctx.report));
    try {
      expect(run.invocations).toBe(copies);
      expect(run.shape.copies).toBe(copies);
      expect(new Set(run.iteration.map((d) => d.bindGroups[0])).size).toBe(copies);
      expect((await run.verify()).ok).toBe(false);
    } finally {
      run.destroy();
    }
    made = 100; // no broken copy this time
    const good = await prepareColdCopies(ctx, prepare);
    try {
      expect((await good.verify()).ok).toBe(true);
    } finally {
      good.destroy();
    }
    const r = await runCase(ctx, { id: 'commands', family: 'stream', prepare: (c) => prepareBufferCopy(c, { elems: 1024 }), coldCopies: true }, fast);
    expect(r.error).toMatch(/cold copies need a run of dispatches/);
  });

  it('reports a case whose preparation throws', async () => {
    const r = await runCase(ctx, { id: 'bad', family: 'stream', prepare: (c) => prepareStream(c, 'copy', { elems: 10 }, { elem: 'vec4', wg: 64, per: 1 }) });
    expect(r.error).toMatch(/prepare failed.*multiple of 4/);
  });

  it('loads the core families and rejects unknown names', async () => {
    const names = (await loadFamilies()).map((f) => f.name);
    for (const f of CORE_FAMILIES) expect(names).toContain(f.name);
    await expect(loadFamilies(['nope'])).rejects.toThrow(/unknown kernel families: nope/);
  });
});
